"""Running test code in real threads at the same instant, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection, connections

from tests.services import wait_until


def run_together(*sides: Callable[[], object]) -> list[object]:
    """Run each callable in its own thread, released at once; return results or exceptions."""
    barrier = threading.Barrier(len(sides))
    results: list[object] = [None] * len(sides)

    def run(index: int, side: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = side()
        except Exception as exc:  # the test inspects it
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(sides)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a side hung (deadlock?)"
    return results


def waiting_for_a_lock() -> bool:
    """Another session of the test database waits for a row lock."""
    with connection.cursor() as cursor:
        # asked inside a transaction: the statistics are a snapshot unless cleared
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def holding_until_the_other_side_waits_or_ends(other_done: threading.Event) -> None:
    wait_until(
        lambda: other_done.is_set() or waiting_for_a_lock(),
        what="the other side to end or to wait for this one's lock",
    )
