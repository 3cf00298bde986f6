from onboarding.management.transition_command import TenantTransitionCommand
from onboarding.services import lifecycle


class Command(TenantTransitionCommand):
    help = "Resume a suspended tenant: it returns to the state it was suspended from."
    transition = staticmethod(lifecycle.tenant_resume)
