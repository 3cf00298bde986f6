"""The gateway provisioning feed: what a gateway needs to serve its active tenants.

For each active tenant on the calling gateway (suspended, invited and offboarded tenants are not
served) with a current token: its calling domains with their meeting settings, and the token.

The ETag is a hash of the feed with each token replaced by its row id and fingerprint, so the
304 path never decrypts anything, and a rotation (a new token row) always changes it. Serving
a token for the first time records when, and may queue the confirmation, in the same
transaction as the fetch's audit row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from onboarding.domain.calling_domains import SFB_GATEWAY_HOSTNAME, CallingDomainOption
from onboarding.infra import encryption
from onboarding.models import (
    CallingDomain,
    GatewayApiKey,
    GatewayFetch,
    ProvisioningMode,
    SecurityToken,
    TenantStatus,
    TokenState,
)
from onboarding.services import tokens
from onboarding.services.audit import Actor

# Bumped when the shape of the feed changes, so every gateway's cached copy is invalidated.
FEED_VERSION = "1"


@dataclass
class Feed:
    """The feed's rows as read, their ETag, and (for a full response) the ciphertexts."""

    gateway_id: int
    # per tenant, by tenant id: (tenant id, name, token row id, fingerprint, fetched already?)
    token_rows: list[tuple[int, str, int, str, bool]]
    # per calling domain: (tenant id, domain, option, length, prefix, sfb)
    domain_rows: list[tuple[int, str, str, str, str, bool]]
    etag: str
    ciphertexts: list[str] | None = None

    @property
    def tenant_ids(self) -> list[int]:
        return [row[0] for row in self.token_rows]


def feed_build(gateway_id: int, *, with_tokens: bool = False) -> Feed:
    """Two queries, whatever the number of tenants.

    The ETag hashes the rows themselves (repr of ints, strings and booleans is stable), so a
    304 costs two queries and one hash: no JSON, no decryption, and without `with_tokens` no
    ciphertext is even read. With it, the ciphertexts come from the same query as the rest, so
    a body always matches its ETag.
    """
    rows = list(
        SecurityToken.objects.filter(
            state=TokenState.CURRENT,
            tenant__status=TenantStatus.ACTIVE,
            tenant__gateway_id=gateway_id,
        )
        .annotate(
            fetched=ExpressionWrapper(
                Q(gateway_has_token_at__isnull=False), output_field=BooleanField()
            )
        )
        .order_by("tenant_id")
        .values_list(
            "tenant_id",
            "tenant__name",
            "pk",
            "fingerprint",
            "fetched",
            *(["ciphertext"] if with_tokens else []),
        )
    )
    domain_rows = list(
        CallingDomain.objects.in_use()
        .filter(tenant__status=TenantStatus.ACTIVE, tenant__gateway_id=gateway_id)
        # an own domain added to a live tenant is served once its DNS is verified
        .exclude(option=CallingDomainOption.OWN, verified_at__isnull=True)
        .order_by("tenant_id", "created_at", "id")
        .values_list(
            "tenant_id", "domain", "option", "meeting_id_length", "prefix", "sfb_additional_gateway"
        )
    )
    token_rows = [(*row[:4], False) for row in rows]  # "fetched" must not change the ETag
    stamp = repr((FEED_VERSION, gateway_id, token_rows, domain_rows)).encode("utf-8")
    return Feed(
        gateway_id=gateway_id,
        token_rows=[row[:5] for row in rows],
        domain_rows=domain_rows,
        etag='"' + hashlib.sha256(stamp).hexdigest()[:40] + '"',
        ciphertexts=[row[5] for row in rows] if with_tokens else None,
    )


def feed_body(feed: Feed) -> bytes:
    """The full response, each token decrypted in. Only ever in a response."""
    if feed.ciphertexts is None:
        raise ValueError("feed_body needs a feed built with_tokens=True")
    domains: dict[int, list[dict[str, Any]]] = {}
    for tenant_id, domain, option, length, prefix, sfb in feed.domain_rows:
        domains.setdefault(tenant_id, []).append(
            {
                "domain": domain,
                "option": option,
                "meeting_id_length": length,
                "prefix": prefix if length == "short" else "",
                "sfb_additional_gateway": sfb,
                "sfb_gateway_hostname": SFB_GATEWAY_HOSTNAME if sfb else None,
            }
        )
    tenants = [
        {
            "id": tenant_id,
            "name": name,
            "calling_domains": domains.get(tenant_id, []),
            "token": {"id": token_pk, "fingerprint": fingerprint, "value": encryption.decrypt(c)},
        }
        for (tenant_id, name, token_pk, fingerprint, _fetched), c in zip(
            feed.token_rows, feed.ciphertexts, strict=True
        )
    ]
    body = {"version": FEED_VERSION, "gateway_id": feed.gateway_id, "tenants": tenants}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def fetch_record(
    *,
    api_key: GatewayApiKey,
    feed: Feed,
    status_code: int,
    ip_address: str | None,
    now: datetime | None = None,
) -> GatewayFetch:
    """Audit the fetch; on a 200, mark tokens served for the first time and queue the
    confirmations they were waiting for, all in one transaction."""
    now = now or timezone.now()
    served = feed.tenant_ids if status_code == 200 else []
    with transaction.atomic():
        fetch = GatewayFetch.objects.create(
            gateway_id=api_key.gateway_id,
            api_key=api_key,
            fetched_at=now,
            ip_address=ip_address,
            status_code=status_code,
            etag=feed.etag,
            tenant_ids=served,
        )
        GatewayApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        if status_code == 200:
            first_time = [row[2] for row in feed.token_rows if not row[4]]
            if first_time and api_key.gateway.provisioning == ProvisioningMode.FEED:
                _tokens_mark_fetched(first_time, now)
    return fetch


def _tokens_mark_fetched(token_ids: list[int], now: datetime) -> None:
    """Only a gateway that takes its tokens from the feed makes "the gateway has the token"
    true by fetching: a node the portal provisions has it when the portal read it back."""
    actor = Actor.system("gateway feed")
    current = SecurityToken.objects.filter(pk__in=token_ids, state=TokenState.CURRENT)
    # each mark locks its tenant: in their order, as the DNS sweep locks several at once
    for token in current.order_by("tenant_id"):
        tokens.gateway_has_token_mark(token, actor=actor, now=now, how="fetched from the feed")
