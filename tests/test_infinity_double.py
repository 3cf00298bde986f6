"""The Infinity Management Node double itself, over real HTTPS verified against its CA."""

from __future__ import annotations

import json
import ssl

import pytest

from tests.infinity_calls import RULES, SECRET, TOKENS, add_rule, add_token, call, connect, detail
from tests.infinity_resources import API_PREFIX

# Authentication and TLS ------------------------------------------------------------------------


def test_it_refuses_a_request_without_credentials(infinity_node):
    status, headers, _ = call(infinity_node, "GET", TOKENS, auth=False)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic")


def test_it_refuses_a_wrong_password(infinity_node):
    status, _, _ = call(infinity_node, "GET", TOKENS, password="wrong")
    assert status == 401


def test_a_client_without_the_test_run_ca_cannot_connect(infinity_node):
    connection = connect(infinity_node, context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        connection.request("GET", API_PREFIX)
    connection.close()


def test_its_certificate_is_valid_for_localhost_too(infinity_node):
    connection = connect(infinity_node, "localhost")
    connection.request("GET", API_PREFIX)
    assert connection.getresponse().status == 401
    connection.close()


# Creating, reading, changing, deleting ------------------------------------------------------


def test_post_answers_201_with_the_new_uri_in_location_and_no_body(infinity_node):
    status, headers, body = call(infinity_node, "POST", TOKENS, {"name": "t", "token": SECRET})
    assert status == 201
    assert body is None
    [token] = infinity_node.objects("gms_access_token")
    assert headers["Location"] == f"https://127.0.0.1:{infinity_node.port}{token['resource_uri']}"
    assert token["resource_uri"] == f"{API_PREFIX}gms_access_token/{token['id']}/"


def test_location_can_be_a_path_instead(infinity_node):
    infinity_node.location_absolute = False
    _, headers, _ = call(infinity_node, "POST", TOKENS, {"name": "t", "token": SECRET})
    [token] = infinity_node.objects("gms_access_token")
    assert headers["Location"] == token["resource_uri"]


def test_the_token_value_is_never_returned_on_read(infinity_node):
    uri = add_token(infinity_node)
    _, _, one = detail(infinity_node, uri)
    _, _, listed = call(infinity_node, "GET", TOKENS)
    assert one == {"id": int(uri.split("/")[-2]), "name": "portal-acme", "resource_uri": uri}
    assert listed["objects"] == [one]
    assert SECRET not in json.dumps(infinity_node.snapshot())
    assert infinity_node.token_matches(uri, SECRET)
    assert not infinity_node.token_matches(uri, SECRET + "x")


def test_the_request_log_says_a_token_was_sent_without_keeping_it(infinity_node):
    add_token(infinity_node)
    record = infinity_node.log[0]
    assert (record.method, record.path, record.status) == (
        "POST",
        "/api/admin/configuration/v1/gms_access_token/",
        201,
    )
    assert record.token_in_body
    assert SECRET not in repr(infinity_node.log)


def test_a_rule_gets_the_documented_defaults(infinity_node):
    _, _, rule = detail(infinity_node, add_rule(infinity_node))
    assert rule["enable"] is True
    assert rule["called_device_type"] == "external"
    assert rule["outgoing_protocol"] == "sip"
    assert rule["gms_access_token"] is None
    assert rule["match_incoming_calls"] and not rule["treat_as_trusted"]


def test_patch_changes_the_given_fields_only(infinity_node):
    uri = add_rule(infinity_node, tag="portal:acme:1")
    status, _, body = call(infinity_node, "PATCH", uri, {"enable": False})
    _, _, rule = detail(infinity_node, uri)
    assert (status, body) == (202, None)
    assert rule["enable"] is False and rule["tag"] == "portal:acme:1"


def test_put_replaces_the_whole_object(infinity_node):
    uri = add_rule(infinity_node, tag="portal:acme:1", enable=False)
    body = {"name": "renamed", "priority": 7, "match_string": "^x$"}
    status, _, _ = call(infinity_node, "PUT", uri, body)
    _, _, rule = detail(infinity_node, uri)
    assert status == 204
    assert (rule["name"], rule["tag"], rule["enable"]) == ("renamed", "", True)


def test_patch_sends_a_new_token_value(infinity_node):
    uri = add_token(infinity_node)
    call(infinity_node, "PATCH", uri, {"token": "replaced"})
    assert infinity_node.token_matches(uri, "replaced")


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_an_unknown_id_is_404(infinity_node, method):
    status, _, _ = call(infinity_node, method, RULES + "999/", {} if method != "GET" else None)
    assert status == 404


def test_a_token_a_rule_still_references_cannot_be_deleted(infinity_node):
    token = add_token(infinity_node)
    rule = add_rule(infinity_node, gms_access_token=token)
    status, _, body = call(infinity_node, "DELETE", token)
    assert status == 400
    assert "portal-acme-1" in body["gms_access_token"]["__all__"][0]
    call(infinity_node, "DELETE", rule)
    assert call(infinity_node, "DELETE", token)[0] == 204


# Field errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"priority": 0}, "priority", "Ensure this value is greater than or equal to 1."),
        ({"priority": 201}, "priority", "Ensure this value is less than or equal to 200."),
        ({"priority": "high"}, "priority", "'high' value must be an integer."),
        ({"name": "n" * 251}, "name", "Ensure this value has at most 250 characters (it has 251)."),
        ({"enable": "yes"}, "enable", "'yes' value must be either True or False."),
        ({"outgoing_protocol": "gsm"}, "outgoing_protocol", "Value 'gsm' is not a valid choice."),
        ({"colour": "red"}, "colour", "Unknown field."),
        (
            {"gms_access_token": "/api/admin/configuration/v1/gms_access_token/9/"},
            "gms_access_token",
            "Could not find the provided object via resource URI "
            "'/api/admin/configuration/v1/gms_access_token/9/'.",
        ),
    ],
)
def test_a_bad_rule_field_is_a_400_naming_resource_and_field(infinity_node, fields, field, message):
    body = {"name": "r", "priority": 50, "match_string": "^x$", **fields}
    status, _, answer = call(infinity_node, "POST", RULES, body)
    assert status == 400
    assert answer == {"gateway_routing_rule": {field: [message]}}


def test_missing_required_fields_are_named(infinity_node):
    status, _, answer = call(infinity_node, "POST", TOKENS, {})
    assert status == 400
    assert answer["gms_access_token"] == {
        "name": ["This field is required."],
        "token": ["This field is required."],
    }


def test_a_token_value_over_100_characters_is_refused(infinity_node):
    _, _, answer = call(infinity_node, "POST", TOKENS, {"name": "t", "token": "x" * 101})
    assert answer["gms_access_token"]["token"] == [
        "Ensure this value has at most 100 characters (it has 101)."
    ]


def test_a_second_object_with_the_same_name_is_refused(infinity_node):
    add_token(infinity_node)
    status, _, answer = call(infinity_node, "POST", TOKENS, {"name": "portal-acme", "token": "y"})
    assert status == 400
    assert answer["gms_access_token"]["name"] == [
        "Google Meet access token with this Name already exists."
    ]
