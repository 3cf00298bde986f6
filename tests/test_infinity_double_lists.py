"""Lists on the Infinity double: the page size it enforces, offsets, next/previous, filters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.infinity_calls import RULES, TOKENS, add_rule, call


def fill(node, count, prefix="portal-t"):
    for n in range(count):
        node.add_by_hand("gms_access_token", name=f"{prefix}{n:03}", token=f"value-{n}")


def test_a_list_without_limit_answers_a_page_of_20(infinity_node):
    fill(infinity_node, 25)
    status, _, page = call(infinity_node, "GET", TOKENS)
    assert status == 200
    assert page["meta"]["limit"] == 20
    assert page["meta"]["total_count"] == 25
    assert len(page["objects"]) == 20
    assert page["meta"]["previous"] is None


def test_a_limit_above_the_maximum_is_capped(infinity_node):
    infinity_node.max_limit = 5
    fill(infinity_node, 12)
    _, _, page = call(infinity_node, "GET", TOKENS + "?limit=1000")
    assert page["meta"]["limit"] == 5
    assert len(page["objects"]) == 5


def test_limit_zero_means_as_many_as_the_node_allows(infinity_node):
    infinity_node.max_limit = 5
    fill(infinity_node, 7)
    _, _, page = call(infinity_node, "GET", TOKENS + "?limit=0")
    assert (page["meta"]["limit"], len(page["objects"])) == (5, 5)


def test_following_next_reads_every_object_once(infinity_node):
    infinity_node.max_limit = 4
    fill(infinity_node, 10)
    names, url, pages = [], TOKENS + "?limit=100&name__startswith=portal-", 0
    while url:
        _, _, page = call(infinity_node, "GET", url)
        names += [obj["name"] for obj in page["objects"]]
        url, pages = page["meta"]["next"], pages + 1
    assert names == [f"portal-t{n:03}" for n in range(10)]
    assert pages == 3


def test_next_and_previous_keep_the_filters_and_the_capped_limit(infinity_node):
    infinity_node.max_limit = 2
    fill(infinity_node, 6)
    _, _, page = call(infinity_node, "GET", TOKENS + "?name__startswith=portal&offset=2&limit=9")
    assert page["meta"]["offset"] == 2
    next_query = parse_qs(urlsplit(page["meta"]["next"]).query)
    previous_query = parse_qs(urlsplit(page["meta"]["previous"]).query)
    assert urlsplit(page["meta"]["next"]).path == "/api/admin/configuration/v1/gms_access_token/"
    assert next_query == {"name__startswith": ["portal"], "offset": ["4"], "limit": ["2"]}
    assert previous_query["offset"] == ["0"]


def test_an_offset_past_the_end_answers_no_objects(infinity_node):
    fill(infinity_node, 3)
    _, _, page = call(infinity_node, "GET", TOKENS + "?offset=10")
    assert page["objects"] == []
    assert page["meta"]["next"] is None
    assert page["meta"]["total_count"] == 3


def test_a_negative_or_non_numeric_limit_is_a_400(infinity_node):
    assert call(infinity_node, "GET", TOKENS + "?limit=-1")[0] == 400
    assert call(infinity_node, "GET", TOKENS + "?offset=x")[0] == 400


def test_rules_filter_by_tag_and_name(infinity_node):
    add_rule(infinity_node, "portal-acme-1", tag="portal:acme:1")
    add_rule(infinity_node, "portal-acme-2", tag="portal:acme:2")
    add_rule(infinity_node, "staff-made", tag="")
    _, _, by_tag = call(infinity_node, "GET", RULES + "?tag=portal:acme:2")
    _, _, by_prefix = call(infinity_node, "GET", RULES + "?tag__startswith=portal:")
    _, _, by_name = call(infinity_node, "GET", RULES + "?name=staff-made")
    assert [r["name"] for r in by_tag["objects"]] == ["portal-acme-2"]
    assert by_prefix["meta"]["total_count"] == 2
    assert [r["name"] for r in by_name["objects"]] == ["staff-made"]


def test_a_lookup_on_a_field_that_does_not_allow_filtering_is_a_400(infinity_node):
    status, _, body = call(infinity_node, "GET", RULES + "?priority=50")
    assert status == 400
    assert body == {"error": "The 'priority' field does not allow filtering."}


def test_a_lookup_the_node_does_not_know_is_a_400(infinity_node):
    assert call(infinity_node, "GET", RULES + "?name__regex=x")[0] == 400


def test_rules_can_be_ordered_by_priority(infinity_node):
    add_rule(infinity_node, "late", priority=90)
    add_rule(infinity_node, "early", priority=10)
    _, _, page = call(infinity_node, "GET", RULES + "?order_by=priority")
    assert [r["name"] for r in page["objects"]] == ["early", "late"]


def test_the_root_lists_the_resources(infinity_node):
    _, _, root = call(infinity_node, "GET", "")
    assert root["gms_access_token"]["list_endpoint"].endswith("/gms_access_token/")
    assert "gateway_routing_rule" in root
