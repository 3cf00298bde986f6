"""A compact index of what a Management Node holds for the portal, built while its lists are
read page by page: per tenant, its token references and a fingerprint of each rule's fields.

The drift sweep compares every tenant with it. Keeping fingerprints rather than the node's
objects makes the sweep's memory a few hundred bytes per tenant instead of kilobytes, so a
gateway with 10,000 tenants costs a worker little more than one with 1,000 (bench/provision.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from onboarding.domain import infinity_rules
from onboarding.domain.infinity_rules import DesiredState


def reference_path(reference: Any) -> str:
    """A reference as the node may give it (a path or a full URL), reduced to its path."""
    return urlsplit(str(reference or "")).path.rstrip("/")


def rule_fingerprint(fields: Mapping[str, Any]) -> bytes:
    values = [
        reference_path(fields.get(name)) if name == "gms_access_token" else fields.get(name)
        for name in infinity_rules.MANAGED_RULE_FIELDS
    ]
    return hashlib.blake2b(json.dumps(values).encode(), digest_size=16).digest()


@dataclass
class NodeIndex:
    # tenant id -> the paths of the tokens named for it
    tokens: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    # tenant id -> (tag, fingerprint) of each of its rules
    rules: dict[int, list[tuple[str, bytes]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(
        cls, tokens: Iterable[Mapping[str, Any]], rules: Iterable[Mapping[str, Any]]
    ) -> NodeIndex:
        """From the node's lists as they are read (generators: one page in memory at a time).
        Objects the portal did not name are left out."""
        index = cls()
        for token in tokens:
            tenant_id = infinity_rules.parse_token_name(str(token.get("name") or ""))
            if tenant_id is not None:
                index.tokens[tenant_id].append(reference_path(token.get("resource_uri")))
        for rule in rules:
            parsed = infinity_rules.parse_rule_tag(str(rule.get("tag") or ""))
            if parsed is not None:
                index.rules[parsed[0]].append((str(rule["tag"]), rule_fingerprint(rule)))
        return index

    def tenant_ids(self) -> set[int]:
        return set(self.tokens) | set(self.rules)

    def holds_anything(self, tenant_id: int) -> bool:
        return bool(self.tokens.get(tenant_id) or self.rules.get(tenant_id))

    def differs(self, tenant_id: int, desired: DesiredState, *, value_outdated: bool) -> bool:
        """Whether the node must change for this tenant (the job then reads and converges)."""
        tokens = self.tokens.get(tenant_id, [])
        rules = self.rules.get(tenant_id, [])
        if desired.token is None:
            return bool(tokens or rules)
        if len(tokens) != 1 or value_outdated:
            return True
        wanted = sorted(
            (rule.tag, rule_fingerprint(rule.body(tokens[0]))) for rule in desired.rules
        )
        return wanted != sorted(rules)
