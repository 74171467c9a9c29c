"""Running calls at the same moment in threads, each with its own database connection."""

import threading

from django.db import connection


def run_together(*calls, timeout: float = 60):
    """Run the calls in threads released together by a barrier; return each one's result or the
    exception it raised (the test inspects both)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
