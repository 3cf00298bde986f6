from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from onboarding import checks  # noqa: F401  (registers the system checks)
        from onboarding.infra.staff_sessions import record_sign_in
        from onboarding.services.reference_data import ensure_reference_data
        from onboarding.services.staff_roles import ensure_staff_roles

        post_migrate.connect(ensure_reference_data, sender=self)
        user_logged_in.connect(record_sign_in, dispatch_uid="onboarding.record_sign_in")
        # every app's post_migrate: the roles hold permissions of apps migrated after this one
        post_migrate.connect(ensure_staff_roles, dispatch_uid="onboarding.ensure_staff_roles")
