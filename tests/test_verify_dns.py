"""`manage.py verify_dns DOMAIN`: one line per expected record and an exit status per verdict,
against a real DNS server on loopback."""

import os
import re
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from onboarding.domain import dns_records
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.services import ROOT

pytestmark = pytest.mark.django_db

DOMAIN = "video.acme.test"
GATEWAY = "gateway.example.com"  # the default gateway's SIP/H.323 host in the tests


def own_tenant_domain():
    tenant = tenant_creation.tenant_create(
        name="Acme",
        main_contact_email="it@acme.test",
        calling_domains=[CallingDomainSpec(option="own", domain=DOMAIN)],
        actor=Actor.system("test"),
    ).tenant
    return tenant.calling_domains.get()


def publish(server, records, skip=()):
    """The records as the instructions give them; no ownership record without a code."""
    wanted = [r for r in records if not r.name.startswith(tuple(skip))]
    server.add(*(r.zone_line for r in wanted if r.rdtype == "SRV" or r.text))


def verify(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_dns", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue().splitlines(), err.getvalue()
    return 0, out.getvalue().splitlines(), err.getvalue()


def columns(line):
    return re.split(r"\s{2,}", line)


def test_a_tenants_domain_with_every_record_right_prints_ok_lines_and_exits_0(dns_server):
    calling_domain = own_tenant_domain()
    publish(dns_server, calling_domain.expected_records())

    status, lines, summary = verify(DOMAIN)

    assert status == 0
    assert len(lines) == 4
    assert columns(lines[1]) == [
        f"_sip._tcp.{DOMAIN}.",
        "SRV",
        f"port 5060 target {GATEWAY}.",
        "ok",
        f"10 10 5060 {GATEWAY}.",
    ]
    assert columns(lines[3])[3:] == ["ok", f'"pexip-verification={calling_domain.ownership_code}"']
    assert "video.acme.test (tenant Acme): ok" in summary


def test_missing_beside_unknown_exits_3(dns_server):
    publish(dns_server, own_tenant_domain().expected_records(), skip=["_sip."])
    dns_server.servfail(f"_sips._tcp.{DOMAIN}")

    status, lines, _summary = verify(DOMAIN)

    assert status == 3
    assert columns(lines[0])[3:] == ["unknown", "(SERVFAIL from 127.0.0.1)"]
    assert columns(lines[1])[3:] == ["missing", "(no such name)"]


def test_no_usable_answer_exits_4(servfail_dns_server):
    own_tenant_domain()

    status, lines, summary = verify(DOMAIN)

    assert status == 4
    assert all(columns(line)[3] == "unknown" for line in lines)
    assert "unknown" in summary


def test_any_other_domain_is_checked_against_the_default_gateway_without_ownership(dns_server):
    records = dns_records.expected_records(
        domain="meet.other.test", sip_host=GATEWAY, ownership_code=None
    )
    publish(dns_server, records)

    status, lines, summary = verify("Meet.Other.Test.")

    assert status == 0
    assert columns(lines[3])[1:4] == ["TXT", "(no ownership code)", "not applicable"]
    assert "(no tenant)" in summary


def test_nameserver_and_port_say_which_server_to_ask(dns_server, settings):
    settings.DNS_NAMESERVERS = []
    publish(dns_server, own_tenant_domain().expected_records())

    status, _lines, _summary = verify(
        DOMAIN, "--nameserver", "127.0.0.1", "--port", str(dns_server.port)
    )

    assert status == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not a domain"], "cannot contain spaces"),
        ([DOMAIN, "--nameserver", "ns1.example.test"], "is not an IP address"),
        ([DOMAIN, "--nameserver", "127.0.0.1", "--port", "70000"], "is not a port number"),
    ],
)
def test_bad_arguments_are_errors_that_say_what_is_wrong(args, message):
    with pytest.raises(CommandError, match=message):
        verify(*args)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("args", "expected_status"), [(["video.nobody.test"], 3), ([], 2)])
def test_the_exit_status_reaches_the_shell(dns_server, test_database_url, args, expected_status):
    command = [
        sys.executable,
        "manage.py",
        "verify_dns",
        *args,
        "--nameserver",
        "127.0.0.1",
        "--port",
        str(dns_server.port),
    ]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": test_database_url,
    }

    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60)

    assert finished.returncode == expected_status, finished.stderr.decode()
