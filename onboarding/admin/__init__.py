"""The staff side: tenants, their calling domains, gateways, the outbox and the audit trail.

Every state change goes through `services/` (the transition table in `lifecycle.py`); every
rule through `domain/` (via model and formset validation), so the admin cannot disagree with
the management commands.
"""

from onboarding.admin import gateway_api, gateways, records, staff, tenants

__all__ = ["gateway_api", "gateways", "records", "staff", "tenants"]
