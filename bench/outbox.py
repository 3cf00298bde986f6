"""Outbox throughput against the SMTP floor.

Queues N emails through the real outbox (PostgreSQL rows, Redis broker, Celery worker processes,
SMTP to a sink on loopback) and times until the sink has them all. In the same run, sends the
same messages with bare smtplib over one connection to the same sink: the SMTP floor.

    python bench/outbox.py [--emails 1000] [--workers 2] [--batch 50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from onboarding.services import tenant_creation

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402 (needs ROOT on the path)

BENCH_DATABASE = "portal_bench"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/3"


class CountingHandler:
    def __init__(self, counter) -> None:
        self.counter = counter

    async def handle_DATA(self, server, session, envelope):
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 2.0.0 OK"


def run_sink(port: int, counter, stop) -> None:
    """The SMTP sink, in its own process so it never competes with the sender for a GIL."""
    import logging

    from aiosmtpd.controller import Controller

    logging.disable(logging.INFO)  # aiosmtpd logs every SMTP command at INFO
    controller = Controller(CountingHandler(counter), hostname="127.0.0.1", port=port)
    controller.start()
    stop.wait()
    controller.stop()


def start_sink():
    import multiprocessing

    from tests.services import reserve_port, wait_until

    port = reserve_port()
    counter = multiprocessing.Value("i", 0)
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=run_sink, args=(port, counter, stop), daemon=True)
    process.start()

    def answers() -> bool:
        import socket

        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    wait_until(answers, timeout=20, what="the SMTP sink")
    return process, stop, counter, port


def prepare_database() -> None:
    fresh_database(BENCH_DATABASE)


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--batch", type=int, default=50, help="OUTBOX_BATCH_SIZE")
    args = parser.parse_args()

    prepare_database()
    import logging

    logging.disable(logging.INFO)  # aiosmtpd logs every SMTP command at INFO
    import redis
    from django.db import transaction

    from onboarding.mail import outbox as mail
    from onboarding.models import AuditEvent, CallingDomain, EmailKind, OutboundEmail, Tenant
    from onboarding.services.audit import Actor
    from onboarding.services.tenant_creation import CallingDomainSpec

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    OutboundEmail.objects.all().delete()
    AuditEvent.objects.all().delete()
    CallingDomain.objects.all().delete()
    Tenant.objects.all().delete()
    tenant = tenant_creation.tenant_create(
        name="Bench",
        main_contact_email="it@bench.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain="bench")],
        actor=Actor.system("bench"),
    ).tenant
    sink, stop_sink, delivered, port = start_sink()
    log = open(ROOT / "var" / "bench-outbox-worker.log", "w")  # noqa: SIM115 (lives for the run)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=prefork",
            f"--concurrency={args.workers}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "OUTBOX_BATCH_SIZE": str(args.batch),
            "PYTHONPATH": str(ROOT),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(4)  # let the worker connect before the clock starts
        from onboarding.mail.composers import tenant_context

        context = tenant_context(tenant)
        started = time.perf_counter()
        with transaction.atomic():
            for number in range(args.emails):
                mail.email_queue(
                    kind=EmailKind.INITIAL,
                    idempotency_key=f"bench:{number}",
                    recipients=["admin@bench.test"],
                    tenant=tenant,
                    context=context,
                )
        committed = time.perf_counter()  # the send tasks are published on commit
        wait_for(lambda: delivered.value >= args.emails, timeout=600)
        finished = time.perf_counter()
        queue_seconds = committed - started
        outbox_seconds = finished - committed
        end_to_end_seconds = finished - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()

    # The SMTP floor: the same rendered messages, one connection, bare smtplib.
    import smtplib
    from email.message import EmailMessage

    rendered = mail.render(EmailKind.INITIAL, context)
    delivered.value = 0
    floor_started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for number in range(args.emails):
            message = EmailMessage()
            message["Subject"] = rendered.subject
            message["From"] = "onboarding@localhost"
            message["To"] = "admin@bench.test"
            message["Message-ID"] = f"<floor.{number}@localhost>"
            message.set_content(rendered.text)
            message.add_alternative(rendered.html, subtype="html")
            smtp.send_message(message)
    wait_for(lambda: delivered.value >= args.emails, timeout=600)
    floor_seconds = time.perf_counter() - floor_started
    stop_sink.set()
    sink.join(timeout=10)

    outbox_rate = args.emails / outbox_seconds
    floor_rate = args.emails / floor_seconds
    sent = OutboundEmail.objects.filter(status="sent").count()
    print(f"emails:                   {args.emails}")
    print(f"worker processes:         {args.workers} (prefork), batch size {args.batch}")
    print(f"recording rows (1 txn):   {queue_seconds:.2f} s  (render, encrypt, insert)")
    print(
        f"delivery, commit->sink:   {outbox_seconds:.2f} s  = {outbox_rate:,.0f} emails/s"
        f"  (rows marked sent: {sent})"
    )
    print(
        f"end to end incl. rows:    {end_to_end_seconds:.2f} s"
        f"  = {args.emails / end_to_end_seconds:,.0f} emails/s"
    )
    print(f"SMTP floor (smtplib):     {floor_seconds:.2f} s  = {floor_rate:,.0f} emails/s")
    print(f"delivery / floor:         {outbox_rate / floor_rate:.2f}  (goal >= 0.50)")
    print(f"end to end / floor:       {args.emails / end_to_end_seconds / floor_rate:.2f}")


if __name__ == "__main__":
    main()
