"""Staff roles as Django groups, kept by a post_migrate handler.

The table below is the whole truth: every migrate (and every test database flush) sets each
group's permissions to exactly this, so a group edited by hand in the admin is put back. Give a
staff member a role by adding them to the group (and ticking "staff status").
"""

from __future__ import annotations

from typing import Any

READ_ONLY = "Read-only"
ONBOARDING_STAFF = "Onboarding staff"
ADMINISTRATORS = "Administrators"

# "view" on every onboarding model but these is added to each role below (see role_permissions):
# who has which second factor is for administrators; backup codes have no admin screen at all.
ADMINISTRATOR_ONLY_MODELS = {"stafftotpdevice", "staffbackupcodedevice", "staffbackupcode"}
READ_ONLY_EXTRA = ["onboarding.export_timeline"]
ONBOARDING_STAFF_EXTRA = [
    "onboarding.add_tenant",
    "onboarding.change_tenant",
    "onboarding.add_callingdomain",
    "onboarding.change_callingdomain",
    "onboarding.delete_callingdomain",
    "onboarding.enable_tenant",
    "onboarding.suspend_tenant",
    "onboarding.issue_upload_link",
    "onboarding.check_dns",
    "onboarding.send_again",
    "onboarding.change_live_settings",
    "onboarding.move_calling_domain",
    "onboarding.provision_tenant",
]
ADMINISTRATORS_EXTRA = [
    "onboarding.add_gateway",
    "onboarding.change_gateway",
    "onboarding.delete_gateway",
    "onboarding.revoke_token",
    # ending a service deletes the tenant's tokens: an administrator's decision
    "onboarding.offboard_tenant",
    # taking objects made by hand under the portal's management changes the node
    "onboarding.adopt_gateway_objects",
    # gateway API keys hand out every token a gateway serves
    "onboarding.add_gatewayapikey",
    "onboarding.change_gatewayapikey",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    "auth.add_group",
    "auth.change_group",
    # second factors: see who is enrolled, remove a lost device
    "onboarding.view_stafftotpdevice",
    "onboarding.delete_stafftotpdevice",
    "onboarding.view_staffbackupcodedevice",
    "onboarding.delete_staffbackupcodedevice",
    # lockouts: see failed sign-ins, unlock someone by deleting their attempts
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "axes.view_accesslog",
    "axes.view_accessfailurelog",
]


def role_permissions() -> dict[str, list[str]]:
    """Each role's permissions as "app_label.codename", each role including the one before."""
    from django.apps import apps

    views = sorted(
        f"onboarding.view_{model._meta.model_name}"
        for model in apps.get_app_config("onboarding").get_models()
        if model._meta.model_name not in ADMINISTRATOR_ONLY_MODELS
    )
    read_only = [*views, *READ_ONLY_EXTRA]
    onboarding_staff = [*read_only, *ONBOARDING_STAFF_EXTRA]
    return {
        READ_ONLY: read_only,
        ONBOARDING_STAFF: onboarding_staff,
        ADMINISTRATORS: [*onboarding_staff, *ADMINISTRATORS_EXTRA],
    }


def ensure_staff_roles(sender: Any = None, using: str = "default", **_kwargs: Any) -> None:
    """Create the groups and set their permissions. Connected to every app's post_migrate and
    acting on the last one's: only then do the permissions of apps listed after onboarding
    (otp, axes) exist."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is not None and sender is not with_models[-1]:
        return

    wanted = role_permissions()
    every = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for name, permissions in wanted.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([every[p] for p in permissions if p in every])
