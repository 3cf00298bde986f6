"""`make run` uses SQLite: the upload page's reads and the outbox's insert-unless-present must
work there too. This runs a customer's upload in a
separate process on a fresh SQLite file."""

from tests.sqlite_support import run_on_sqlite

SCRIPT = """
import json

import django
import django.utils.timezone

django.setup()
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
from onboarding.models import CallingDomain, OutboundEmail, SecurityToken
from tests.upload_support import invited_tenant, link_path

tenant = invited_tenant("Acme")
CallingDomain.objects.create(tenant=tenant, option="own", domain="video.acme.test",
                             verified_at=django.utils.timezone.now())
path = link_path(tenant)
client = Client()
page = client.get(path)
upload = client.post(path, {"token": "a-valid-token", "trusted": "on"})
after = client.get(path)
print(json.dumps({
    "page": page.status_code,
    "domains_shown": [d for d in ("acme.onpexip.com", "video.acme.test")
                      if d in page.content.decode()],
    "upload": upload.status_code,
    "tokens": SecurityToken.objects.filter(tenant=tenant).count(),
    "emails": sorted(OutboundEmail.objects.filter(tenant=tenant).values_list("kind", flat=True)),
    "after": after.status_code,
    "received": "received" in after.content.decode().lower(),
}))
"""


def test_an_upload_works_on_sqlite(tmp_path):
    result = run_on_sqlite(SCRIPT, tmp_path)
    assert result["page"] == 200
    assert result["domains_shown"] == ["acme.onpexip.com", "video.acme.test"]
    assert result["upload"] == 302
    assert result["tokens"] == 1
    # the confirmation waits for the gateway (staff confirm this manual one)
    assert result["emails"] == ["initial"]
    assert result["after"] == 200 and result["received"]


OLD_SQLITE_SCRIPT = """
import json

import django

django.setup()
from django.core.management import call_command
from django.db import connection

call_command("migrate", verbosity=0)
from onboarding.mail import composers
from onboarding.mail import outbox as mail
from onboarding.models import OutboundEmail
from tests.upload_support import invited_tenant

connection.features.can_return_columns_from_insert = False  # as on SQLite before 3.35
tenant = invited_tenant("Acme")
keys = []
for name in ("Acme", "Someone else"):
    context = {**composers.tenant_context(tenant), "token": None}
    context["tenant"].name = name
    row = mail.email_queue(kind="confirmation", idempotency_key="confirmation:x",
                           recipients=["noc@acme.test"], tenant=tenant, context=context)
    keys.append(row.pk)
print(json.dumps({
    "pks": keys,
    "rows": OutboundEmail.objects.filter(idempotency_key="confirmation:x").count(),
    "subject": OutboundEmail.objects.get(idempotency_key="confirmation:x").subject,
}))
"""


def test_where_sqlite_cannot_return_ids_the_outbox_still_records_once_per_key(tmp_path):
    result = run_on_sqlite(OLD_SQLITE_SCRIPT, tmp_path)

    assert result["pks"][0] is not None and result["pks"][0] == result["pks"][1]
    assert result["rows"] == 1
    assert "Someone else" not in result["subject"]
