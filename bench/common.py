"""What the benchmark scripts share."""

from __future__ import annotations


def fresh_database(name: str) -> None:
    """Drop and create the benchmark's own PostgreSQL database, then migrate it.

    A fresh database each run: a benchmark never depends on what an earlier run left.
    """
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
