from onboarding.management.transition_command import TenantTransitionCommand
from onboarding.services import lifecycle


class Command(TenantTransitionCommand):
    help = (
        "Enable onboarding for a tenant: it is invited to upload its token. "
        "Refused while any own domain's DNS is unverified."
    )
    transition = staticmethod(lifecycle.tenant_enable)
