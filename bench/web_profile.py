"""`python bench/web.py --profile TARGET`: where one target's time goes, by pyinstrument.

Runs the target's requests in-process through Django's test client (the same settings, database
and Redis as the benchmark, without gunicorn and wrk), after a warm-up, and prints the call tree.
"""

from __future__ import annotations

import argparse

PROFILE_TARGETS = (
    "framework-floor",
    "form-floor",
    "upload-get",
    "upload-post",
    "healthz",
    "admin",
)


def profile(args: argparse.Namespace) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError as missing:
        raise SystemExit("pyinstrument is missing: pip install -e '.[test,bench]'") from missing
    from django.test import Client

    from bench import web_data
    from onboarding.services.heartbeats import heartbeat_record

    target = args.profile
    if target not in PROFILE_TARGETS:
        raise SystemExit(f"--profile takes one of: {', '.join(PROFILE_TARGETS)}")
    count = args.profile_requests
    client = Client()
    if target == "upload-post":
        paths = web_data.upload_links(count + 10, label="profile")
        data = {"token": "bench-token", "trusted": "on"}
        requests = [lambda p=p: client.post(p, data) for p in paths]
    else:
        path = {
            "framework-floor": "/bench/floor/",
            "form-floor": "/bench/form-floor/",
            "healthz": "/healthz",
            "admin": "/admin/onboarding/tenant/",
        }.get(target) or web_data.upload_tenant()
        if target == "admin":
            web_data.tenants_add(args.profile_tenants, label="profile")
            name, value = web_data.staff_session_cookie()
            client.cookies[name] = value
        if target == "healthz":
            heartbeat_record("bench")
        requests = [lambda: client.get(path)] * (count + 10)
    for request in requests[:10]:
        response = request()
        if response.status_code not in (200, 302):
            raise SystemExit(f"{target} answered {response.status_code}")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for request in requests[10:]:
        request()
    profiler.stop()
    if args.profile_flat:  # functions by their own time: where the CPU goes, whoever calls
        print(profiler.output_text(flat=True, show_all=True)[:8000])
    else:
        print(profiler.output_text(unicode=False, color=False, show_all=args.profile_all))
