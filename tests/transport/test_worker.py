"""The background worker's flush contract (no network involved)."""

from __future__ import annotations

import threading
import time

from releasetag.transport.worker import BackgroundWorker


def test_flush_without_a_live_thread_runs_work_inline_and_starts_no_thread():
    ran = []
    worker = BackgroundWorker(idle=lambda: ran.append(threading.current_thread()) and None)
    worker.poke(0.0, start=False)  # work due, but no thread (as at interpreter exit)
    before = threading.active_count()
    assert worker.flush(2.0) is True
    assert ran == [threading.current_thread()]
    assert threading.active_count() == before


def test_flush_returns_early_when_the_next_retry_is_after_the_deadline():
    worker = BackgroundWorker(idle=lambda: None)
    worker.poke(30.0)  # a retry scheduled in 30 s
    start = time.monotonic()
    assert worker.flush(1.0) is False
    assert time.monotonic() - start < 0.5
    worker.close(0)


def test_jobs_run_in_order_and_the_queue_is_bounded():
    gate, started = threading.Event(), threading.Event()
    done = []
    worker = BackgroundWorker(queue_size=3)
    assert worker.submit(lambda: (started.set(), gate.wait()))
    assert started.wait(5)  # the thread is now blocked in the first job
    assert all(worker.submit(lambda i=i: done.append(i)) for i in range(3))
    assert worker.submit(lambda: done.append("overflow")) is False
    gate.set()
    assert worker.flush(5.0)
    assert done == [0, 1, 2]
    worker.close(1.0)
    assert worker.join(1.0)
