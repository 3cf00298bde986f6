"""Running test code in real threads at the same instant, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


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
