"""Two staff saving the same tenant name or calling domain at the same instant.

Validation runs before the insert, so the loser only learns of the clash from the database's
unique constraint. It must get the usual validation error (a form error with HTTP 200 in the
admin) and nothing of its save may stay. The competing save runs on its own PostgreSQL
connection and commits between our validation and our insert (a `pre_save` hook), so the
constraint, not validation, refuses ours; the barrier tests race two real saves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models.signals import pre_save
from django.test import Client

from onboarding.models import AuditEvent, CallingDomain, Tenant
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec, UniqueConflict
from tests.concurrency import run_together
from tests.conftest import otp_verified_login
from tests.test_admin_live_changes import change_url, edit_data
from tests.test_admin_tenants import ADD_URL, tenant_form
from tests.upload_support import invited_tenant

pytestmark = pytest.mark.django_db(transaction=True)

TEST = Actor.system("test")
ROUNDS = 4


def create(name: str, domain: str = "acme", option: str = "onpexip") -> Tenant:
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email="it@acme.test",
        calling_domains=[CallingDomainSpec(option=option, domain=domain)],
        actor=TEST,
    ).tenant


def in_own_thread(work: Callable[[], object]) -> object:
    """Run `work` on another thread, so on its own database connection, committed."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # re-raised below, on the test's thread
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the competing save hung"
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


@contextmanager
def competitor_commits_before_our_insert(model: type, competitor: Callable[[], object]):
    """Just before our first save of `model` (validation has passed), `competitor` commits."""
    fired = threading.Event()

    def receiver(sender: type, **kwargs: object) -> None:
        if not fired.is_set():  # the competitor's own save passes through here too
            fired.set()
            in_own_thread(competitor)

    pre_save.connect(receiver, sender=model, weak=False)
    try:
        yield
    finally:
        pre_save.disconnect(receiver, sender=model)
    assert fired.is_set(), "the competitor never ran: nothing was raced"


def validation_error_of(work: Callable[[], object]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        work()
    return caught.value.message_dict


# tenant_creation.tenant_create ----------------------------------------------------------------


def test_a_name_taken_after_validation_gives_the_usual_name_error():
    competitor = competitor_commits_before_our_insert(
        Tenant, lambda: create("ACME", domain="other")
    )
    with competitor, pytest.raises(UniqueConflict) as caught:
        create("Acme")

    assert caught.value.message_dict == {
        "name": ["A tenant named ACME already exists. Choose another name."]
    }
    assert caught.value.message_dict == validation_error_of(lambda: create("Acme"))
    assert list(Tenant.objects.values_list("name", flat=True)) == ["ACME"]
    assert not CallingDomain.objects.filter(domain="acme.onpexip.com").exists()


def test_a_calling_domain_taken_after_validation_gives_the_usual_domain_error():
    own = "video.acme.test"
    competitor = competitor_commits_before_our_insert(
        CallingDomain, lambda: create("Acme", domain=own, option="own")
    )
    with competitor, pytest.raises(UniqueConflict) as caught:
        create("Beta", domain=own, option="own")

    assert caught.value.message_dict == {
        "domain": [
            "video.acme.test is already a calling domain of tenant Acme. "
            "A calling domain belongs to one tenant."
        ]
    }
    assert caught.value.message_dict == validation_error_of(
        lambda: create("Beta", domain=own, option="own")
    )
    # the loser's tenant row (saved before its domain) went with the rollback
    assert list(Tenant.objects.values_list("name", flat=True)) == ["Acme"]
    assert not AuditEvent.objects.exclude(tenant__name="Acme").exists()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_racing_creations_of_one_name_let_exactly_one_win(round_):
    results = run_together(
        lambda: create("Acme", domain=f"first{round_}"),
        lambda: create("acme", domain=f"second{round_}"),
    )

    winners = [r for r in results if isinstance(r, Tenant)]
    [loser] = [r for r in results if not isinstance(r, Tenant)]
    assert len(winners) == 1
    assert isinstance(loser, ValidationError), repr(loser)
    assert loser.message_dict["name"][0].endswith("already exists. Choose another name.")
    assert Tenant.objects.count() == CallingDomain.objects.count() == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_racing_creations_of_one_domain_let_exactly_one_win(round_):
    results = run_together(
        lambda: create(f"Acme {round_}", domain="acme"),
        lambda: create(f"Beta {round_}", domain="acme"),
    )

    [winner] = [r for r in results if isinstance(r, Tenant)]
    [loser] = [r for r in results if not isinstance(r, Tenant)]
    assert isinstance(loser, ValidationError), repr(loser)
    assert loser.message_dict == {
        "domain": [
            f"acme.onpexip.com is already a calling domain of tenant {winner.name}. "
            "A calling domain belongs to one tenant."
        ]
    }
    assert list(Tenant.objects.all()) == [winner]


# The admin ---------------------------------------------------------------------------------------


def test_the_admin_shows_a_name_taken_after_validation_as_a_form_error(staff_client):
    form = tenant_form(name="Acme", domains=[{"option": "onpexip", "domain": "acme"}])

    with competitor_commits_before_our_insert(Tenant, lambda: create("Acme", domain="other")):
        response = staff_client.post(ADD_URL, form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "name": ["A tenant named Acme already exists. Choose another name."]
    }
    assert Tenant.objects.count() == 1
    assert not CallingDomain.objects.filter(domain="acme.onpexip.com").exists()
    assert not AuditEvent.objects.filter(actor_kind="staff").exists()


def test_the_admin_shows_a_calling_domain_taken_after_validation_as_a_form_error(staff_client):
    form = tenant_form(name="Beta", domains=[{"option": "own", "domain": "video.acme.test"}])

    with competitor_commits_before_our_insert(
        CallingDomain, lambda: create("Acme", domain="video.acme.test", option="own")
    ):
        response = staff_client.post(ADD_URL, form)

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.errors == [
        {
            "domain": [
                "video.acme.test is already a calling domain of tenant Acme. "
                "A calling domain belongs to one tenant."
            ]
        }
    ]
    assert list(Tenant.objects.values_list("name", flat=True)) == ["Acme"]
    assert not AuditEvent.objects.filter(actor_kind="staff").exists()


def test_a_domain_added_to_a_live_tenant_and_taken_meanwhile_is_a_form_error(staff_client):
    tenant = invited_tenant("Globex")
    new_domain = {"option": "onpexip", "domain": "newglobex", "meeting_id_length": "long"}

    with competitor_commits_before_our_insert(
        CallingDomain, lambda: create("Acme", domain="newglobex")
    ):
        response = staff_client.post(change_url(tenant), edit_data(tenant, new_domain=new_domain))

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"][:1]
    assert inline.formset.errors[1] == {
        "domain": [
            "newglobex.onpexip.com is already a calling domain of tenant Acme. "
            "A calling domain belongs to one tenant."
        ]
    }
    assert list(tenant.calling_domains.values_list("domain", flat=True)) == ["globex.onpexip.com"]
    assert not AuditEvent.objects.filter(action="calling_domain_move_started").exists()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_staff_adding_one_domain_at_once_never_get_a_server_error(staff_user, round_):
    clients = [otp_verified_login(Client(), staff_user) for _ in range(2)]
    forms = [
        tenant_form(name=name, domains=[{"option": "own", "domain": "video.acme.test"}])
        for name in (f"Acme {round_}", f"Beta {round_}")
    ]

    responses = run_together(
        *(lambda c=c, f=f: c.post(ADD_URL, f) for c, f in zip(clients, forms, strict=True))
    )

    assert sorted(r.status_code for r in responses) == [200, 302], responses
    [refused] = [r for r in responses if r.status_code == 200]
    assert "is already a calling domain of tenant" in refused.content.decode()
    assert Tenant.objects.count() == 1
