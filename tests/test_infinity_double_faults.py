"""The Infinity double's fault switches, edits by hand, counters, and parallel requests."""

from __future__ import annotations

import http.client
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.infinity_calls import RULES, SECRET, TOKENS, add_rule, add_token, call, detail
from tests.infinity_resources import ReferencedObject


def test_fail_next_answers_503_then_the_node_recovers(infinity_node):
    infinity_node.fail_next(2)
    first = call(infinity_node, "POST", TOKENS, {"name": "t", "token": SECRET})[0]
    second = call(infinity_node, "GET", TOKENS)[0]
    assert (first, second) == (503, 503)
    assert infinity_node.objects("gms_access_token") == []
    assert call(infinity_node, "GET", TOKENS)[0] == 200


def test_fail_next_can_answer_any_status(infinity_node):
    infinity_node.fail_next(status=403)
    assert call(infinity_node, "GET", TOKENS)[0] == 403


def test_throttle_answers_429_with_retry_after(infinity_node):
    infinity_node.throttle_next(retry_after=7)
    status, headers, _ = call(infinity_node, "GET", TOKENS)
    assert status == 429
    assert headers["Retry-After"] == "7"
    assert call(infinity_node, "GET", TOKENS)[0] == 200


def test_slow_holds_the_answer_back(infinity_node):
    infinity_node.slow(0.3, count=1)
    started = time.monotonic()
    call(infinity_node, "GET", TOKENS)
    held = time.monotonic() - started
    started = time.monotonic()
    call(infinity_node, "GET", TOKENS)
    assert held >= 0.3
    assert time.monotonic() - started < 0.3


def test_a_dropped_connection_gets_no_answer_and_changes_nothing(infinity_node):
    infinity_node.drop_next()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        call(infinity_node, "POST", TOKENS, {"name": "t", "token": SECRET})
    assert infinity_node.log[-1].status is None
    assert infinity_node.log[-1].token_in_body
    assert infinity_node.objects("gms_access_token") == []
    assert call(infinity_node, "GET", TOKENS)[0] == 200


def test_a_full_licence_refuses_one_more_token_with_the_node_message(infinity_node):
    add_token(infinity_node, "portal-first")
    infinity_node.licence_full()
    status, _, body = call(infinity_node, "POST", TOKENS, {"name": "portal-next", "token": "v"})
    assert status == 400
    assert "licence" in body["gms_access_token"]["__all__"][0]
    assert [t["name"] for t in infinity_node.objects("gms_access_token")] == ["portal-first"]


def test_a_licence_for_more_tokens_lets_them_in(infinity_node):
    infinity_node.licence_full(tokens=2)
    add_token(infinity_node, "one")
    add_token(infinity_node, "two")
    assert call(infinity_node, "POST", TOKENS, {"name": "three", "token": "v"})[0] == 400


def test_an_edit_by_hand_shows_on_read_and_leaves_no_request(infinity_node):
    uri = add_rule(infinity_node, tag="portal:acme:1")
    infinity_node.edit_by_hand("gateway_routing_rule", uri, match_string="^edited$", enable=False)
    _, _, rule = detail(infinity_node, uri)
    assert (rule["match_string"], rule["enable"]) == ("^edited$", False)
    assert infinity_node.counts() == {"POST": 1, "GET": 1}


def test_a_token_value_edited_by_hand_is_invisible_on_read(infinity_node):
    uri = add_token(infinity_node)
    _, _, before = detail(infinity_node, uri)
    infinity_node.edit_by_hand("gms_access_token", uri, token="typed-by-staff")
    assert detail(infinity_node, uri)[2] == before
    assert not infinity_node.token_matches(uri, SECRET)


def test_an_object_deleted_by_hand_is_gone(infinity_node):
    uri = add_rule(infinity_node)
    infinity_node.delete_by_hand("gateway_routing_rule", uri)
    assert detail(infinity_node, uri)[0] == 404


def test_deleting_a_referenced_token_by_hand_needs_force_and_clears_the_reference(infinity_node):
    token = add_token(infinity_node)
    rule = add_rule(infinity_node, gms_access_token=token)
    with pytest.raises(ReferencedObject, match="Call Routing Rules"):
        infinity_node.delete_by_hand("gms_access_token", token)
    infinity_node.delete_by_hand("gms_access_token", token, force=True)
    assert detail(infinity_node, rule)[2]["gms_access_token"] is None


def test_objects_added_by_hand_are_read_like_any_other(infinity_node):
    uri = infinity_node.add_by_hand("gms_access_token", name="staff-token", token="t")
    assert detail(infinity_node, uri)[2]["name"] == "staff-token"
    assert infinity_node.log[0].method == "GET"


def test_counts_and_requests_tell_methods_and_resources_apart(infinity_node):
    token = add_token(infinity_node)
    add_rule(infinity_node, gms_access_token=token)
    call(infinity_node, "GET", RULES)
    assert infinity_node.counts() == {"POST": 2, "GET": 1}
    assert len(infinity_node.requests("POST", "gms_access_token")) == 1
    assert [r.status for r in infinity_node.requests(resource="gateway_routing_rule")] == [201, 200]


def test_reset_empties_the_node_but_never_reuses_an_id(infinity_node):
    first = add_token(infinity_node)
    infinity_node.fail_next(5)
    infinity_node.reset()
    second = add_token(infinity_node)
    assert second != first
    assert infinity_node.objects("gms_access_token")[0]["resource_uri"] == second
    assert len(infinity_node.log) == 1


def test_it_answers_requests_in_parallel(infinity_node):
    infinity_node.slow(0.2)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(
            pool.map(
                lambda n: call(infinity_node, "POST", TOKENS, {"name": f"t{n}", "token": "v"})[0],
                range(10),
            )
        )
    assert statuses == [201] * 10
    assert time.monotonic() - started < 1.0  # ten answers held 0.2 s each, not one after another
    assert len({t["id"] for t in infinity_node.objects("gms_access_token")}) == 10
