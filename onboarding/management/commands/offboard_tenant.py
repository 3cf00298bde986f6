from onboarding.management.transition_command import TenantTransitionCommand
from onboarding.services import offboarding


class Command(TenantTransitionCommand):
    help = (
        "End a tenant's service (from any state): tokens deleted, links revoked, pending emails "
        "cancelled, DNS checks stopped, the service-ended email sent. Final."
    )
    transition = staticmethod(offboarding.tenant_offboard)
