"""The customer's upload link and page, through HTTP against PostgreSQL and Redis."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from onboarding.infra import encryption
from onboarding.models import (
    EmailKind,
    Gateway,
    OutboundEmail,
    SecurityToken,
    TenantStatus,
    TokenState,
    UploadInvitation,
)
from onboarding.services import audit, invitations, lifecycle, tenant_creation, tokens
from onboarding.services.audit import Actor
from tests.upload_support import gateway_confirms, invited_tenant, link_path

pytestmark = pytest.mark.django_db

TOKEN = "gAAAAB-interop-Token_1234567890"


def path_of(url):
    return url.removeprefix("http://testserver")


@pytest.fixture
def link():
    """A fresh link for an invited tenant, as the path the customer opens."""
    tenant = invited_tenant()
    return path_of(invitations.invitation_issue(tenant=tenant).url)


def upload(client, link, token=TOKEN, trusted=True, **extra):
    data = {"token": token, **extra}
    if trusted:
        data["trusted"] = "on"
    return client.post(link, data)


def test_the_page_shows_the_steps_and_the_values_and_changes_nothing(client, link):
    response = client.get(link)

    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Acme",
        "acme.onpexip.com",
        "192.0.2.10",
        "gateway.example.com",
        "Interoperability tokens",
        "Gateways for Interoperability",
        "Trusted",
        "support@provider.test",
        "1234567890123@acme.onpexip.com",
    ):
        assert text in page
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert not UploadInvitation.objects.filter(used_at__isnull=False).exists()


def test_a_valid_upload_stores_the_token_encrypted_and_activates_the_tenant(client, link):
    response = upload(client, link)

    assert response.status_code == 302
    assert response["Location"] == link
    stored = SecurityToken.objects.get()
    assert stored.ciphertext != TOKEN and TOKEN not in stored.ciphertext
    assert encryption.decrypt(stored.ciphertext) == TOKEN
    assert stored.fingerprint == encryption.fingerprint(TOKEN)
    assert stored.source_ip == "127.0.0.1"
    assert stored.tenant.status == TenantStatus.ACTIVE
    # "ready" waits for the gateway to have the token (here: staff confirm a manual gateway)
    assert not OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION).exists()
    gateway_confirms(stored.tenant)
    confirmation = OutboundEmail.objects.get(kind=EmailKind.CONFIRMATION)
    assert confirmation.recipients == ["noc@acme.test"]


def test_after_the_upload_the_link_shows_the_received_page(client, link):
    upload(client, link)

    response = client.get(link)

    assert response.status_code == 200
    assert "We received the token for Acme" in response.content.decode()
    assert "Send a new link" in response.content.decode()


def test_surrounding_whitespace_is_trimmed_from_the_token(client, link):
    upload(client, link, token=f"  {TOKEN}\n")

    assert encryption.decrypt(SecurityToken.objects.get().ciphertext) == TOKEN


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "Paste the token"),
        ("   ", "Paste the token"),
        ("abc def", "cannot contain spaces"),
        ("abc\u0007def", "control characters"),
        ("abc\u0000def", "Null characters are not allowed"),
        ("abc\ufffddef", "characters that are not part of a token"),
        ("\ufffd", "characters that are not part of a token"),
        ("x" * 101, "longer than a token can be"),
    ],
)
def test_a_bad_token_is_refused_with_a_message_and_nothing_changes(client, link, token, message):
    response = upload(client, link, token=token)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SecurityToken.objects.exists()
    assert not UploadInvitation.objects.filter(used_at__isnull=False).exists()


def test_a_token_with_a_percent_encoded_invalid_byte_is_refused_and_nothing_changes(client, link):
    body = b"token=abc%FFdef&trusted=on"

    response = client.post(link, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "characters that are not part of a token" in response.content.decode()
    assert not SecurityToken.objects.exists()
    assert not UploadInvitation.objects.filter(used_at__isnull=False).exists()


@pytest.mark.parametrize(
    "body",
    [
        b"token=abc\xc3def&trusted=on",
        b"token=\xed\xa0\x80abc&trusted=on",  # an encoded surrogate: not UTF-8 either
    ],
)
def test_a_form_body_of_raw_bytes_that_are_not_utf8_is_refused(client, link, body):
    """Django would decode the whole body as Latin-1 and store mojibake as the token."""
    response = client.post(link, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "could not read" in response.content.decode()
    assert not SecurityToken.objects.exists()
    assert not UploadInvitation.objects.filter(used_at__isnull=False).exists()


def test_a_short_id_domain_needs_its_prefix_confirmed(client):
    tenant = invited_tenant(option="shared", domain="")
    prefix = tenant.calling_domains.get().prefix
    link = path_of(invitations.invitation_issue(tenant=tenant).url)
    field = f"prefix_{tenant.calling_domains.get().pk}"

    wrong = upload(client, link, **{field: "1234"})
    right = upload(client, link, **{field: f" {prefix} "})

    assert wrong.status_code == 400
    assert f"which is {prefix}" in wrong.content.decode()
    assert right.status_code == 302


def test_a_tampered_link_is_404_and_reveals_nothing(client, link):
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]

    response = client.get(tampered)

    assert response.status_code == 404
    assert "Acme" not in response.content.decode()


def test_a_correctly_signed_link_to_an_unknown_invitation_is_404(client, link):
    forged = signing.TimestampSigner(salt=invitations.UPLOAD_SALT).sign_object(
        {"i": 999999, "n": "x"}
    )

    assert client.get(f"/upload/{forged}/").status_code == 404


def test_a_link_with_the_wrong_nonce_is_404(client, link):
    invitation = UploadInvitation.objects.first()
    forged = signing.TimestampSigner(salt=invitations.UPLOAD_SALT).sign_object(
        {"i": invitation.pk, "n": "guessed"}
    )

    assert client.get(f"/upload/{forged}/").status_code == 404


def test_an_expired_link_is_410_with_a_button_for_a_new_one(client, link):
    UploadInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(link)

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert "Send a new link" in response.content.decode()
    assert upload(client, link).status_code == 410
    assert not SecurityToken.objects.exists()


def test_a_superseded_link_is_410_and_says_when_the_newer_one_was_sent(client, link):
    tenant = UploadInvitation.objects.first().tenant
    newer = invitations.invitation_issue(tenant=tenant)

    response = client.get(link)

    assert response.status_code == 410
    assert "newer upload link" in response.content.decode()
    assert f"{newer.invitation.created_at:%-d %B %Y}" in response.content.decode()
    assert client.get(path_of(newer.url)).status_code == 200


def test_a_suspended_tenants_link_is_403(client, link):
    tenant = UploadInvitation.objects.first().tenant
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system())

    response = client.get(link)

    assert response.status_code == 403
    assert "Onboarding is paused" in response.content.decode()
    assert upload(client, link).status_code == 403
    assert not SecurityToken.objects.exists()


def test_a_used_link_is_200_with_a_way_to_ask_for_a_new_one(client, link):
    upload(client, link)

    response = upload(client, link, token="another-token")

    assert response.status_code == 200
    assert SecurityToken.objects.count() == 1


def test_asking_for_a_new_link_sends_it_to_the_token_upload_contacts_only(client, link):
    UploadInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(f"{link}new-link/", {"email": "attacker@evil.test"})

    assert response.status_code == 200
    assert "We sent a new link" in response.content.decode()
    email = OutboundEmail.objects.get(kind=EmailKind.NEW_LINK)
    assert email.recipients == ["admin@acme.test"]
    assert (
        UploadInvitation.objects.filter(revoked_at__isnull=True, used_at__isnull=True).count() == 1
    )


def test_a_new_link_cannot_be_asked_for_from_a_tampered_or_suspended_link(client, link):
    tenant = UploadInvitation.objects.first().tenant
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system())

    assert client.post(f"{link}new-link/").status_code == 403
    assert client.post(f"{link[:-4]}xyz/new-link/").status_code == 404
    assert not OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK).exists()


def test_a_second_upload_replaces_the_token_and_keeps_the_previous_for_the_grace_period(client):
    tenant = invited_tenant()
    upload(client, path_of(invitations.invitation_issue(tenant=tenant).url))
    gateway_confirms(tenant)

    upload(client, path_of(invitations.invitation_issue(tenant=tenant).url), token="second")

    current, previous = SecurityToken.objects.order_by("-uploaded_at", "-id")
    assert (current.state, previous.state) == (TokenState.CURRENT, TokenState.PREVIOUS)
    assert encryption.decrypt(previous.ciphertext) == TOKEN
    # "token replaced" waits until the gateway has the new token too
    assert not OutboundEmail.objects.filter(kind=EmailKind.TOKEN_REPLACED).exists()
    gateway_confirms(tenant)
    assert OutboundEmail.objects.filter(kind=EmailKind.TOKEN_REPLACED).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION).count() == 1


def test_previous_tokens_are_destroyed_after_the_grace_period_and_their_history_stays(
    client, settings
):
    tenant = invited_tenant()
    upload(client, path_of(invitations.invitation_issue(tenant=tenant).url))
    upload(client, path_of(invitations.invitation_issue(tenant=tenant).url), token="second")
    replaced_at = SecurityToken.objects.get(state=TokenState.PREVIOUS).replaced_at

    early = tokens.tokens_destroy_expired(now=replaced_at + settings.TOKEN_GRACE_PERIOD / 2)
    late = tokens.tokens_destroy_expired(now=replaced_at + settings.TOKEN_GRACE_PERIOD)

    assert (early, late) == (0, 1)
    destroyed = SecurityToken.objects.get(state=TokenState.DESTROYED)
    assert destroyed.ciphertext == ""
    assert destroyed.fingerprint == encryption.fingerprint(TOKEN)


def test_the_confirmation_waits_while_an_own_domain_is_unverified(client):
    tenant = invited_tenant()
    tenant_creation.CallingDomainSpec(option="own", domain="video.acme.test").build(tenant).save()
    link = path_of(invitations.invitation_issue(tenant=tenant).url)

    upload(client, link)
    gateway_confirms(tenant)

    assert not OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION).exists()
    tenant.calling_domains.filter(option="own").update(verified_at=timezone.now())
    assert tokens.confirmation_queue_if_ready(tenant) is True
    assert OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION).count() == 1


def test_staff_revoking_the_token_sends_a_new_link_and_invites_again(client, link):
    upload(client, link)
    tenant = SecurityToken.objects.get().tenant

    tokens.token_revoke(tenant=tenant, actor=Actor.system("staff"))

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.INVITED
    revoked = SecurityToken.objects.get()
    assert (revoked.state, revoked.ciphertext) == (TokenState.REVOKED, "")
    assert OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK).count() == 1


def test_the_upload_page_is_rate_limited_per_link(client, link, settings):
    settings.RATE_UPLOAD_POST_PER_LINK = "2/m"

    codes = [upload(client, link, token="bad token").status_code for _ in range(3)]

    assert codes == [400, 400, 429]
    assert "Too many attempts" in upload(client, link).content.decode()


def test_log_lines_never_carry_the_links_signature(client, link, caplog):
    client.get(link[:-4] + "zzz/")

    signature = link.split("/")[2]
    assert "Not Found" in caplog.text
    assert signature[-20:] not in caplog.text
    assert "/upload/[redacted]/" in caplog.text


def test_a_second_press_within_minutes_sends_no_second_link(client, link):
    UploadInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    first = client.post(f"{link}new-link/")
    second = client.post(f"{link}new-link/")

    assert (first.status_code, second.status_code) == (200, 200)
    assert OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK).count() == 1


def test_a_very_old_link_cannot_ask_for_a_new_one(client, link, settings):
    UploadInvitation.objects.update(
        created_at=timezone.now() - settings.NEW_LINK_REQUEST_MAX_AGE - timedelta(days=1),
        expires_at=timezone.now() - timedelta(days=1),
    )

    response = client.post(f"{link}new-link/")

    assert response.status_code == 410
    assert "too old" in response.content.decode()
    assert not OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK).exists()


def test_customers_get_a_bounded_number_of_new_links_a_day(settings):
    settings.NEW_LINKS_PER_TENANT_PER_DAY = 2
    tenant = invited_tenant()
    now = timezone.now()

    for minutes in (0, 20):
        newest = UploadInvitation.objects.filter(tenant=tenant).first()
        tokens.customer_link_request(
            invitation=newest,
            actor=Actor.customer("127.0.0.1"),
            now=now + timedelta(minutes=minutes),
        )

    with pytest.raises(audit.TransitionRefused, match="several new links today"):
        tokens.customer_link_request(
            invitation=UploadInvitation.objects.filter(tenant=tenant).first(),
            actor=Actor.customer("127.0.0.1"),
            now=now + timedelta(minutes=40),
        )


def test_the_values_shown_follow_a_gateway_change_at_once(client):
    tenant = invited_tenant("Acme")
    path = link_path(tenant)
    before = client.get(path).content.decode()
    Gateway.objects.filter(pk=tenant.gateway_id).update(hostname="gw-new.provider.test")

    after = client.get(path).content.decode()

    assert "gw-new.provider.test" not in before
    assert "gw-new.provider.test" in after
