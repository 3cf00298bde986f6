"""The onboarding models, one module per responsibility; import them from here."""

from onboarding.models.audit import ActorKind, AuditAction, AuditEvent
from onboarding.models.calling_domains import (
    DNS_VERIFIED_AWAITING_ENABLE,
    TENANT_DOMAINS_EDITABLE_IN_PLACE,
    CallingDomain,
    CallingDomainQuerySet,
    dns_verified_awaiting_enable,
    is_dns_verified_awaiting_enable,
)
from onboarding.models.dns import DnsCheck, DnsVerdict, DomainVerdict
from onboarding.models.gateway_api import GatewayApiKey, GatewayApiKeyQuerySet, GatewayFetch
from onboarding.models.gateways import Gateway, ProvisioningMode
from onboarding.models.outbox import (
    EmailKind,
    Heartbeat,
    OutboundEmail,
    OutboxStatus,
)
from onboarding.models.provisioning import ProvisioningState, TenantProvisioning
from onboarding.models.staff_devices import (
    StaffBackupCode,
    StaffBackupCodeDevice,
    StaffTotpDevice,
    backup_code_digest,
    new_backup_code,
)
from onboarding.models.tenants import (
    Tenant,
    TenantStatus,
    new_ownership_code,
    validate_email_list,
)
from onboarding.models.tokens import (
    SecurityToken,
    TokenState,
    UploadInvitation,
)

__all__ = [
    "DNS_VERIFIED_AWAITING_ENABLE",
    "TENANT_DOMAINS_EDITABLE_IN_PLACE",
    "ActorKind",
    "AuditAction",
    "AuditEvent",
    "CallingDomain",
    "CallingDomainQuerySet",
    "DnsCheck",
    "DnsVerdict",
    "DomainVerdict",
    "EmailKind",
    "Gateway",
    "GatewayApiKey",
    "GatewayApiKeyQuerySet",
    "GatewayFetch",
    "Heartbeat",
    "OutboundEmail",
    "OutboxStatus",
    "ProvisioningMode",
    "ProvisioningState",
    "SecurityToken",
    "StaffBackupCode",
    "StaffBackupCodeDevice",
    "StaffTotpDevice",
    "Tenant",
    "TenantProvisioning",
    "TenantStatus",
    "TokenState",
    "UploadInvitation",
    "backup_code_digest",
    "dns_verified_awaiting_enable",
    "is_dns_verified_awaiting_enable",
    "new_backup_code",
    "new_ownership_code",
    "validate_email_list",
]
