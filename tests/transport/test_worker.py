"""The background worker's flush contract (no network involved)."""

from __future__ import annotations

import logging
import threading

import pytest

from releasetag.transport.worker import BackgroundWorker


def test_flush_without_a_live_thread_runs_work_inline_and_starts_no_thread():
    ran = []
    worker = BackgroundWorker(idle=lambda: ran.append(threading.current_thread()) and None)
    worker.poke(0.0, start=False)  # work due, but no thread (as at interpreter exit)
    before = threading.active_count()
    assert worker.flush(2.0) is True
    assert ran == [threading.current_thread()]
    assert threading.active_count() == before


@pytest.mark.timeout(60)  # waiting for the deadline would take 10 minutes
def test_flush_returns_early_when_the_next_retry_is_after_the_deadline():
    worker = BackgroundWorker(idle=lambda: None)
    worker.poke(3600.0)  # a retry scheduled in an hour
    assert worker.flush(600.0) is False  # returns at once: nothing can finish before the deadline
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


@pytest.mark.parametrize("delay", [float("inf"), float("nan"), 1e300, -1e300])
def test_any_delay_leaves_the_thread_alive_for_the_next_job(delay):
    """A timer from a hostile server answer (inf, 1e300) used to raise OverflowError in the
    thread's wait and end the thread: every later job was never run."""
    ran = threading.Event()
    worker = BackgroundWorker(idle=lambda: None)
    worker.poke(delay)
    assert worker.submit(ran.set)
    assert ran.wait(5)
    assert worker.thread_alive
    worker.close(1.0)


@pytest.mark.internal_errors_expected
def test_a_failing_job_is_logged_once_and_the_thread_carries_on(caplog):
    done = []

    def boom():
        raise RuntimeError("bug")

    worker = BackgroundWorker()
    with caplog.at_level(logging.WARNING, logger="releasetag.transport"):
        for job in (boom, boom, lambda: done.append("after")):
            assert worker.submit(job)
        assert worker.flush(5.0)
    assert done == ["after"] and worker.thread_alive
    warnings = [r for r in caplog.records if r.name == "releasetag.transport"]
    assert len(warnings) == 1 and "carries on" in warnings[0].getMessage()
    worker.close(1.0)
