"""Rows every database needs, kept by a post_migrate handler (which also runs after the test
database is flushed): the default gateway, whose provisioning follows `DEFAULT_GATEWAY_*`
wherever those are set, and the provisioning rows of tenants onboarded before provisioning
was tracked."""

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from onboarding.domain.infinity_rules import InfinityRuleError
from onboarding.infra import encryption
from onboarding.models import (
    Gateway,
    ProvisioningMode,
    ProvisioningState,
    SecurityToken,
    Tenant,
    TenantProvisioning,
    TokenState,
)
from onboarding.services import provisioning

logger = logging.getLogger(__name__)


def ensure_reference_data(using: str = "default", **_kwargs: Any) -> None:
    gateway = Gateway.objects.using(using).filter(is_default=True).first()
    if gateway is None:
        gateway = Gateway.objects.using(using).create(
            name=settings.DEFAULT_GATEWAY_NAME,
            ip_address=settings.DEFAULT_GATEWAY_IP,
            hostname=settings.DEFAULT_GATEWAY_HOSTNAME,
            sip_host=settings.DEFAULT_GATEWAY_SIP_HOST,
            is_default=True,
        )
    default_gateway_provisioning_apply(gateway, using=using)
    configured_tenants_baseline(using=using)


def default_gateway_provisioning_apply(gateway: Gateway, *, using: str = "default") -> bool:
    """Set what `DEFAULT_GATEWAY_*` gives; leave alone what they leave unset. True on change."""
    wanted: dict[str, Any] = {}
    if settings.DEFAULT_GATEWAY_PROVISIONING:
        if settings.DEFAULT_GATEWAY_PROVISIONING not in ProvisioningMode.values:
            raise ImproperlyConfigured(
                "DEFAULT_GATEWAY_PROVISIONING is one of "
                f"{', '.join(ProvisioningMode.values)}, not "
                f"{settings.DEFAULT_GATEWAY_PROVISIONING!r}."
            )
        wanted["provisioning"] = settings.DEFAULT_GATEWAY_PROVISIONING
    if settings.DEFAULT_GATEWAY_MANAGEMENT_URL:
        wanted["management_url"] = settings.DEFAULT_GATEWAY_MANAGEMENT_URL
    if settings.DEFAULT_GATEWAY_MANAGEMENT_USERNAME:
        wanted["management_username"] = settings.DEFAULT_GATEWAY_MANAGEMENT_USERNAME
    if settings.DEFAULT_GATEWAY_MANAGEMENT_CA_BUNDLE:
        wanted["management_ca_bundle"] = _pem(settings.DEFAULT_GATEWAY_MANAGEMENT_CA_BUNDLE)
    changed = [name for name, value in wanted.items() if getattr(gateway, name) != value]
    password = settings.DEFAULT_GATEWAY_MANAGEMENT_PASSWORD
    password_changed = bool(password) and (
        not gateway.management_password_ciphertext
        or encryption.decrypt(gateway.management_password_ciphertext) != password
    )
    if not changed and not password_changed:
        return False
    for name in changed:
        setattr(gateway, name, wanted[name])
    if password_changed:
        gateway.management_password_ciphertext = encryption.encrypt(password)
    try:
        gateway.clean()
    except ValidationError as exc:
        raise ImproperlyConfigured(
            f"DEFAULT_GATEWAY_* do not make a usable gateway: {exc}"
        ) from exc
    gateway.provisioning_stopped_at = None
    gateway.provisioning_stop_reason = ""
    gateway.save(using=using)
    logger.info("default gateway provisioning set from DEFAULT_GATEWAY_*: %s", changed)
    return True


def _pem(value: str) -> str:
    if "-----BEGIN" in value:
        return value
    try:
        return Path(value).read_text()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"DEFAULT_GATEWAY_MANAGEMENT_CA_BUNDLE: {value} cannot be read ({exc.strerror})."
        ) from exc


def configured_tenants_baseline(*, using: str = "default") -> int:
    """Tenants whose gateway had the token before provisioning was tracked count as in sync
    with what they should hold today, so only a later change reopens them."""
    token_ids = SecurityToken.objects.using(using).filter(
        state=TokenState.CURRENT, gateway_has_token_at__isnull=False
    )
    tenants = (
        Tenant.objects.using(using)
        .filter(provisioning__isnull=True, tokens__in=token_ids)
        .select_related("gateway")
        .distinct()
    )
    made = 0
    for tenant in tenants:
        token = provisioning.current_token(tenant.pk)
        try:
            desired = provisioning.desired_state_for(tenant, token)
        except InfinityRuleError:
            continue  # its first job records why the gateway cannot hold it
        TenantProvisioning.objects.using(using).get_or_create(
            tenant=tenant,
            defaults={
                "state": ProvisioningState.IN_SYNC,
                "desired_digest": provisioning.desired_digest(desired, token),
                "next_attempt_at": None,
            },
        )
        made += 1
    return made
