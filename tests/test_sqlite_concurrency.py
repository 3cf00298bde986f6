"""`make run` uses one SQLite file for the web server and the worker's processes, which write at
the same moments (the DNS and outbox sweepers fire in the same second). Here a DNS sweeper, an
outbox sender and a customer uploading tokens each run in their own process on one file, through
the real service functions, and none of them may meet "database is locked"."""

from tests.services import wait_until
from tests.sqlite_support import finished_output, run_on_sqlite, start_on_sqlite

DNS_DOMAINS = 20
# Rounds per process, so that each runs for a second or two, all at the same time.
ROUNDS = {"dns": 12, "outbox": 40, "upload": 25}

SETUP = f"""
import json

import django

django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.upload_support import invited_tenant

for i in range({DNS_DOMAINS}):
    tenant_creation.tenant_create(
        name=f"Dns {{i}}",
        main_contact_email=f"it@dns{{i}}.test",
        calling_domains=[CallingDomainSpec(option="own", domain=f"video.dns{{i}}.test")],
        actor=Actor.system("test"),
    )
print(json.dumps({{"outbox_tenant": invited_tenant("Outbox").pk}}))
"""

# One role per process: argv is the role, its rounds, the folder where the processes meet and
# the tenant the outbox role mails.
WORKER = """
import json
import sys
import time
import traceback
from datetime import timedelta
from pathlib import Path

import django

django.setup()
from django.conf import settings
from django.utils import timezone

role, rounds, meeting, outbox_tenant = sys.argv[1:]
meeting = Path(meeting)


def dns_role():
    from onboarding.dns import verdicts as dns
    from onboarding.dns.sweep import dns_sweep
    from onboarding.models import CallingDomain
    from tests.dns_server import DnsServer

    server = DnsServer().start()
    for domain in CallingDomain.objects.own().select_related("tenant__gateway"):
        server.add(*(r.zone_line for r in domain.expected_records()))
    settings.DNS_NAMESERVERS, settings.DNS_PORT = ["127.0.0.1"], server.port
    start = timezone.now()

    def sweep(i):
        now = start + i * timedelta(days=2)  # past every recheck: each sweep claims them all
        return {"checked": dns_sweep(now=now, concurrency=4).checked, "now": now.isoformat()}

    return sweep


def outbox_role():
    from onboarding.services import tokens
    from onboarding.mail import outbox as mail
    from onboarding.services.audit import Actor
    from onboarding.models import OutboundEmail, Tenant

    tenant = Tenant.objects.get(pk=outbox_tenant)

    def send(i):
        issued = tokens.upload_link_reissue(tenant=tenant, actor=Actor.system("test"))
        key = f"new_link:{tenant.pk}:{issued.invitation.pk}"
        email = OutboundEmail.objects.get(idempotency_key=key).pk
        mail.outbox_sweep()
        return {"email": email, "sent": mail.email_send([email])}

    return send


def upload_role():
    from django.test import Client

    from tests.upload_support import invited_tenant, link_path

    client = Client()

    def upload(i):
        tenant = invited_tenant(f"Upload{i}")
        response = client.post(link_path(tenant), {"token": f"a-valid-token-{i}", "trusted": "on"})
        return {"tenant": tenant.pk, "status": response.status_code}

    return upload


def where(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/onboarding/" in f.filename]
    return f"{Path(frames[-1].filename).stem}.{frames[-1].name}" if frames else "?"


one_round = {"dns": dns_role, "outbox": outbox_role, "upload": upload_role}[role]()
(meeting / f"ready-{role}").touch()
while not (meeting / "go").exists():
    time.sleep(0.01)
done, errors = [], []
began = time.time()
deadline = time.monotonic() + 20
for i in range(int(rounds)):
    if time.monotonic() > deadline:
        break
    try:
        done.append(one_round(i))
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc} (in {where(exc)})")
print(json.dumps({"done": done, "errors": errors, "ran": [began, time.time()]}))
"""

LANDED = """
import json

import django

django.setup()
from django.db import connection

from onboarding.models import CallingDomain, DnsCheck, OutboundEmail, Tenant

print(json.dumps({
    "journal_mode": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0],
    "dns_checked_at": sorted({c.isoformat() for c in DnsCheck.objects.values_list(
        "checked_at", flat=True)}),
    "dns_checks": DnsCheck.objects.count(),
    "unverified": CallingDomain.objects.own().filter(verified_at__isnull=True).count(),
    "emails": dict(OutboundEmail.objects.filter(kind="new_link").values_list("pk", "status")),
    "uploaded": dict(Tenant.objects.filter(name__startswith="Upload").values_list(
        "pk", "status")),
}))
"""


def test_a_dns_sweep_an_outbox_send_and_uploads_write_to_one_sqlite_file_at_once(
    tmp_path, smtp_sink_server
):
    smtp_sink_server.reset()
    outbox_tenant = run_on_sqlite(SETUP, tmp_path)["outbox_tenant"]
    roles = ("dns", "outbox", "upload")
    processes = {
        role: start_on_sqlite(
            WORKER,
            tmp_path,
            role,
            str(ROUNDS[role]),
            str(tmp_path),
            str(outbox_tenant),
            EMAIL_URL=smtp_sink_server.url,
        )
        for role in roles
    }
    wait_until(
        lambda: all((tmp_path / f"ready-{role}").exists() for role in roles),
        timeout=60,
        what="every process ready",
    )
    (tmp_path / "go").touch()
    result = {role: finished_output(process) for role, process in processes.items()}
    landed = run_on_sqlite(LANDED, tmp_path)

    errors = {role: result[role]["errors"] for role in roles if result[role]["errors"]}
    assert errors == {}
    assert {role: len(result[role]["done"]) for role in roles} == ROUNDS
    # they did run at the same time: each began before any ended
    assert max(r["ran"][0] for r in result.values()) < min(r["ran"][1] for r in result.values())
    # every sweep checked every domain; the last sweep's verdicts are the ones kept
    assert [r["checked"] for r in result["dns"]["done"]] == [DNS_DOMAINS] * ROUNDS["dns"]
    assert landed["dns_checked_at"] == [result["dns"]["done"][-1]["now"]]
    assert landed["dns_checks"] == DNS_DOMAINS * 4 and landed["unverified"] == 0
    # every link email recorded, sent once and marked sent
    emails = [r["email"] for r in result["outbox"]["done"]]
    assert [r["sent"] for r in result["outbox"]["done"]] == [1] * len(emails)
    assert {int(pk): status for pk, status in landed["emails"].items()} == dict.fromkeys(
        emails, "sent"
    )
    assert len(smtp_sink_server.messages) == len(emails)
    # every upload stored its token
    assert [r["status"] for r in result["upload"]["done"]] == [302] * ROUNDS["upload"]
    assert sorted(landed["uploaded"].values()) == ["active"] * ROUNDS["upload"]
    assert landed["journal_mode"] == "wal"
