from onboarding.management.transition_command import TenantTransitionCommand
from onboarding.services import lifecycle


class Command(TenantTransitionCommand):
    help = (
        "Suspend a tenant's onboarding. The token is kept; resume_tenant returns the tenant to "
        "the state it left."
    )
    transition = staticmethod(lifecycle.tenant_suspend)
