"""Converge one tenant's objects on a Pexip Infinity Management Node with what it should hold.

Reads come first (`node_objects_read`, or the sweep's page-by-page lists), then `converge`
creates, changes and deletes only objects the portal owns (a token named, a rule tagged with the
portal's prefix), in the order the node needs: rules go before the token they reference, and a
token exists before a rule names it. `read_back` then proves the node holds the desired shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from onboarding.domain import infinity_rules
from onboarding.domain.infinity_rules import DesiredState
from onboarding.gateways.infinity_client import (
    InfinityClient,
    NotFound,
    ProtocolError,
    Resource,
)


class ReadBackMismatch(ProtocolError):
    """The node does not hold what was just written (a concurrent edit, a lagging node)."""


@dataclass
class NodeObjects:
    """The portal's objects of one tenant on one node, as listed."""

    tokens: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.tokens and not self.rules


@dataclass
class Convergence:
    """What `converge` changed on the node, in words staff read on the timeline."""

    changes: list[str] = field(default_factory=list)
    token_value_sent: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def node_objects_read(client: InfinityClient, tenant_id: int) -> NodeObjects:
    name = infinity_rules.token_name(tenant_id)
    tag_prefix = infinity_rules.tenant_rule_tag_prefix(tenant_id)
    # an exact name: a prefix would also list tenant 10's to 19's tokens for tenant 1
    named = client.list_objects(Resource.GMS_ACCESS_TOKEN, name=name)
    return NodeObjects(
        tokens=[t for t in named if t.get("name") == name],
        rules=[r for r in client.list_rules(tag_prefix=tag_prefix) if _rule_tenant(r) == tenant_id],
    )


def _rule_tenant(rule: dict[str, Any]) -> int | None:
    parsed = infinity_rules.parse_rule_tag(str(rule.get("tag") or ""))
    return parsed[0] if parsed else None


def same_reference(a: Any, b: Any) -> bool:
    """Two references to one object: the node may answer a path or a full URL."""
    if not a or not b:
        return False
    return urlsplit(str(a)).path.rstrip("/") == urlsplit(str(b)).path.rstrip("/")


def differences(desired: DesiredState, node: NodeObjects, *, value_outdated: bool) -> list[str]:
    """What would have to change on the node, without changing anything (the sweep's test)."""
    if desired.token is None:
        return [f"remove {_describe(o)}" for o in node.rules + node.tokens]
    found: list[str] = []
    if len(node.tokens) != 1:
        found.append("create the token" if not node.tokens else "remove duplicate tokens")
    elif value_outdated:
        found.append("send the current token's value")
    token_uri = node.tokens[0].get("resource_uri") if node.tokens else None
    by_tag = _rules_by_tag(node.rules)
    for rule in desired.rules:
        matching = by_tag.pop(rule.tag, [])
        if not matching:
            found.append(f"create the routing rule {rule.tag}")
            continue
        if len(matching) > 1:
            found.append(f"remove duplicates of the routing rule {rule.tag}")
        fields = _differing_fields(rule, matching[0], token_uri)
        if fields:
            found.append(f"repair {', '.join(sorted(fields))} of the routing rule {rule.tag}")
    for extras in by_tag.values():
        found.extend(f"remove {_describe(o)}" for o in extras)
    return found


def converge(
    client: InfinityClient,
    desired: DesiredState,
    node: NodeObjects,
    *,
    token_value: Callable[[], str],
    value_outdated: bool,
) -> Convergence:
    """Make the node hold `desired` for this tenant. `token_value` is called only when the value
    must travel (a new token object, or `value_outdated`): it decrypts the customer's token."""
    done = Convergence()
    if desired.token is None:
        for node_rule in node.rules:  # first: the node refuses to delete a referenced token
            _delete(client, Resource.GATEWAY_ROUTING_RULE, node_rule, done)
        for node_token in node.tokens:
            _delete(client, Resource.GMS_ACCESS_TOKEN, node_token, done)
        return done

    kept = min(node.tokens, key=lambda t: int(t["id"])) if node.tokens else None
    token_uri = ""
    if kept is not None and value_outdated:
        try:
            client.update_token(int(kept["id"]), name=desired.token.name, token=token_value())
            done.token_value_sent = True
            done.changes.append(f"sent the current token's value to {desired.token.name}")
        except NotFound:
            kept = None
    if kept is None:
        created = client.create_token(name=desired.token.name, token=token_value())
        token_uri = created.uri
        done.token_value_sent = True
        done.changes.append(f"created the token {desired.token.name}")
    else:
        token_uri = str(kept["resource_uri"])

    by_tag = _rules_by_tag(node.rules)
    for rule in desired.rules:
        matching = by_tag.pop(rule.tag, [])
        first = matching[0] if matching else None
        for duplicate in matching[1:]:
            _delete(client, Resource.GATEWAY_ROUTING_RULE, duplicate, done)
        if first is not None:
            fields = _differing_fields(rule, first, token_uri)
            if not fields:
                continue
            try:
                client.patch(
                    Resource.GATEWAY_ROUTING_RULE,
                    int(first["id"]),
                    {name: rule.body(token_uri)[name] for name in fields},
                )
                done.changes.append(
                    f"repaired {', '.join(sorted(fields))} of the routing rule {rule.tag}"
                )
                continue
            except NotFound:
                pass  # deleted meanwhile: create it again
        client.create(Resource.GATEWAY_ROUTING_RULE, rule.body(token_uri))
        done.changes.append(f"created the routing rule {rule.tag} for {rule.domain}")
    for extras in by_tag.values():
        for extra in extras:
            _delete(client, Resource.GATEWAY_ROUTING_RULE, extra, done)
    for token in node.tokens:  # duplicates left by a race, once no rule names them
        if not same_reference(token.get("resource_uri"), token_uri):
            _delete(client, Resource.GMS_ACCESS_TOKEN, token, done)
    return done


def read_back(client: InfinityClient, tenant_id: int, desired: DesiredState) -> NodeObjects:
    """Read the tenant's objects back from the node; raise unless they are exactly `desired`."""
    node = node_objects_read(client, tenant_id)
    problems = differences(desired, node, value_outdated=False)
    if problems:
        raise ReadBackMismatch(
            "The gateway does not hold what was just sent: " + "; ".join(problems) + "."
        )
    return node


def _rules_by_tag(rules: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_tag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rule in sorted(rules, key=lambda r: int(r["id"])):
        by_tag[str(rule.get("tag"))].append(rule)
    return dict(by_tag)


def _differing_fields(
    rule: infinity_rules.DesiredRule, node_rule: dict[str, Any], token_uri: Any
) -> set[str]:
    fields = set(rule.differences(node_rule, str(token_uri or "")))
    if "gms_access_token" in fields and same_reference(
        node_rule.get("gms_access_token"), token_uri
    ):
        fields.discard("gms_access_token")
    return fields


def _delete(
    client: InfinityClient, resource: Resource, obj: dict[str, Any], done: Convergence
) -> None:
    try:
        client.delete(resource, int(obj["id"]))
    except NotFound:
        return  # already gone: that is what we wanted
    done.changes.append(f"removed {_describe(obj)}")


def _describe(obj: dict[str, Any]) -> str:
    if "tag" in obj:
        return f"the routing rule {obj.get('tag')}"
    return f"the token {obj.get('name')}"
