"""Property tests of the upload page: whatever arrives, never a 500, and a refused request
changes nothing that is stored.

Rate limits are off here (architecture.md, "Rate limits") so counters never decide an outcome.
Each example runs in a savepoint that is rolled back, so every example meets the same fresh,
valid link; a 500 would surface as the view's exception (the test client re-raises it).
"""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from hypothesis import event, example, given
from hypothesis import strategies as st

from onboarding.infra import encryption
from onboarding.models import (
    AuditEvent,
    CallingDomain,
    OutboundEmail,
    SecurityToken,
    Tenant,
    UploadInvitation,
)
from tests.upload_support import link_path, prefix_field, shared_domain_tenant

pytestmark = pytest.mark.django_db

ANSWERS = {200, 302, 400, 403, 404, 405, 410}
STORED = (Tenant, CallingDomain, UploadInvitation, SecurityToken, OutboundEmail, AuditEvent)
TOKEN = "fuzz-Token_0123456789"
METHODS = ("get", "head", "post", "put", "patch", "delete", "options")

TEXT = st.text(max_size=120)
TOKENS = st.one_of(
    TEXT,
    st.just(TOKEN),
    st.sampled_from([f"  {TOKEN}\n", f"\t{TOKEN}\r\n", TOKEN[:5] + "\u200b" + TOKEN[5:]]),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=99, max_size=102),
    st.lists(TEXT, min_size=2, max_size=3),  # the field sent more than once
)
TICKS = st.one_of(st.none(), st.sampled_from(["on", "true", "1", "", "false", "0", "off"]), TEXT)
# How the prefix field is filled: left out, right, right with spaces, or typed anything
PREFIXES = st.one_of(
    st.sampled_from([("absent", ""), ("right", ""), ("padded", "")]),
    st.tuples(st.just("typed"), TEXT),
)
EXTRA_NAMES = st.one_of(TEXT, st.integers(0, 10**9).map(lambda n: f"prefix_{n}"))
EXTRAS = st.dictionaries(EXTRA_NAMES, st.one_of(TEXT, st.lists(TEXT, max_size=3)), max_size=4)


def snapshot() -> dict[str, list[dict]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in STORED}


@contextmanager
def rolled_back():
    """Run one example, then undo whatever it stored."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def rate_limits_off(settings):
    settings.RATELIMIT_ENABLE = False


@pytest.fixture
def tenant():
    return shared_domain_tenant()


@pytest.fixture
def signed(tenant):
    return link_path(tenant).split("/")[2]


def edits(signed: str) -> st.SearchStrategy[str]:
    """The real signed value with a slice replaced by arbitrary text."""
    return st.tuples(st.integers(0, len(signed)), st.integers(0, 8), TEXT).map(
        lambda cut: signed[: cut[0]] + cut[2] + signed[cut[0] + cut[1] :]
    )


@given(data=st.data())
def test_no_link_path_answers_500_or_changes_anything(client, signed, data):
    segment = data.draw(st.one_of(TEXT, edits(signed)), label="segment")
    method = data.draw(st.sampled_from(METHODS), label="method")
    page = data.draw(st.sampled_from(["", "new-link/"]), label="page")
    before = snapshot()

    with rolled_back():
        response = getattr(client, method)(f"/upload/{quote(segment, safe='')}/{page}")
        after = snapshot()

    event(f"{method} {page or 'upload'} answered {response.status_code}")
    assert response.status_code in ANSWERS
    assert after == before


def form_data(tenant, token, trusted, prefix, extra) -> dict:
    field, right = prefix_field(tenant)
    kind, typed = prefix
    fields = {"token": token, "trusted": trusted}
    fields[field] = {"absent": None, "right": right, "padded": f" {right} ", "typed": typed}[kind]
    return {**extra, **{name: value for name, value in fields.items() if value is not None}}


@given(
    token=TOKENS,
    trusted=TICKS,
    prefix=PREFIXES,
    extra=EXTRAS,
    encoding=st.sampled_from(["multipart", "urlencoded"]),
)
@example(token=TOKEN, trusted="on", prefix=("right", ""), extra={}, encoding="multipart")
@example(token=f" {TOKEN} ", trusted="on", prefix=("padded", ""), extra={}, encoding="urlencoded")
def test_no_form_answers_500_and_a_refused_one_changes_nothing(
    client, tenant, signed, token, trusted, prefix, extra, encoding
):
    data = form_data(tenant, token, trusted, prefix, extra)
    before = snapshot()

    with rolled_back():
        if encoding == "multipart":
            response = client.post(f"/upload/{signed}/", data)
        else:
            body = urlencode(data, doseq=True)
            response = client.post(
                f"/upload/{signed}/", body, content_type="application/x-www-form-urlencoded"
            )
        after = snapshot()
        stored = [encryption.decrypt(t.ciphertext) for t in SecurityToken.objects.all()]

    event(f"answered {response.status_code}")
    assert response.status_code in ANSWERS
    if response.status_code != 302:
        assert after == before
    else:
        sent = token[-1] if isinstance(token, list) else token
        assert stored == [sent.strip()]
        assert 1 <= len(stored[0]) <= 100 and stored[0].isprintable() and " " not in stored[0]
