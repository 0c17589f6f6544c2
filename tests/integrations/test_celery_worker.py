"""Celery with a real prefork worker (concurrency 2) and a real redis-server broker."""

from __future__ import annotations

import pytest
from celery import Celery

import releasetag

from .celery_fixtures import CeleryWorker

pytestmark = pytest.mark.slow


@pytest.fixture
def worker_factory(redis_server, recorder):
    workers = []

    def start(**env):
        worker = CeleryWorker(redis_server.url, recorder.dsn(), **env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def producer(rt, redis_server):
    rt(release="web@1.0.0")
    app = Celery("producer", broker=redis_server.url)
    app.conf.broker_connection_retry_on_startup = True
    yield app
    app.close()


def _worker_events(recorder, count, timeout=30.0):
    events = recorder.wait_for(
        lambda r: (lambda e: e if len(e) >= count else None)(
            [x for x in r.events() if x.get("release") == "billing@3.1.0"]
        ),
        timeout=timeout,
    )
    return events


@pytest.mark.timeout(120)
def test_worker_reports_failures_with_task_data_and_the_producers_trace(
    worker_factory, producer, recorder
):
    worker = worker_factory()
    with releasetag.isolation_scope() as scope:
        # the expected outcomes first: none of them may be reported
        for name in ("tasks.flaky", "tasks.ignored", "tasks.rejected", "tasks.declined"):
            producer.send_task(name)
        sent = producer.send_task("tasks.charge", args=[41], kwargs={"card": "4111-1111"})
        prop = dict(scope.propagation)
    (event,) = _worker_events(recorder, 1)
    # the retried task runs again (after its countdown); wait for that, then stop the worker:
    # warm shutdown finishes the tasks and the SDK flushes as the processes exit, so anything
    # wrongly reported has arrived by then
    assert recorder.wait_for(lambda r: "second time lucky" in worker.log(), timeout=30)
    worker.stop()
    assert len([e for e in recorder.events() if e.get("release") == "billing@3.1.0"]) == 1
    assert event["environment"] == "staging"
    exc = event["exception"]["values"][-1]
    assert exc["type"] == "ValueError" and exc["value"] == "card declined for order 41"
    assert exc["mechanism"]["type"] == "celery" and exc["mechanism"]["handled"] is False
    assert event["contexts"]["celery"]["task_name"] == "tasks.charge"
    assert event["contexts"]["celery"]["task_id"] == sent.id
    assert "args" not in event["contexts"]["celery"]
    assert "kwargs" not in event["contexts"]["celery"]
    frames = exc["stacktrace"]["frames"]
    # Celery's own frames (which hold the message) keep no local variables without PII;
    # the task function's own locals follow include_local_variables like any code
    assert [f["function"] for f in frames if "4111" in repr(f)] == ["charge"]
    assert event["tags"]["celery_task"] == "tasks.charge"
    assert event["transaction"] == "tasks.charge"
    trace = event["contexts"]["trace"]
    assert trace["trace_id"] == prop["trace_id"]
    assert trace["parent_span_id"] == prop["span_id"]
    # no producer-side event at all
    assert [e for e in recorder.events() if e.get("release") == "web@1.0.0"] == []


@pytest.mark.timeout(120)
def test_prefork_children_deliver_and_flush_before_exit(worker_factory, producer, recorder):
    # Every child exits after one task; the server answers slowly (1.5 s), longer than
    # billiard waits before os._exit: an event arrives only if the child flushes on exit.
    recorder.respond({"path": "/envelope/", "delay": 1.5})
    worker_factory(APP_MAX_TASKS="1", APP_PII="1")
    for i in range(4):
        producer.send_task("tasks.note", args=[f"n{i}"])
    producer.send_task("tasks.charge", args=[7], kwargs={"card": "4111-1111"})
    events = _worker_events(recorder, 5, timeout=60)
    messages = sorted(e["logentry"]["formatted"] for e in events if "logentry" in e)
    assert messages == ["note: n0", "note: n1", "note: n2", "note: n3"]
    (failure,) = [e for e in events if "exception" in e]
    assert failure["contexts"]["celery"]["args"] == [7]  # send_default_pii: args attached
    assert failure["contexts"]["celery"]["kwargs"] == {"card": "4111-1111"}


@pytest.mark.timeout(120)
def test_each_task_run_is_one_session_counted_by_the_prefork_children(
    worker_factory, producer, recorder
):
    worker = worker_factory()
    for i in range(3):
        producer.send_task("tasks.note", args=[f"n{i}"])
    for order in (1, 2):
        producer.send_task("tasks.charge", args=[order])
    producer.send_task("tasks.flaky")  # retried once: two runs, neither a crash
    producer.send_task("tasks.declined")  # an outcome it declares in throws
    _worker_events(recorder, 5, timeout=60)  # 3 notes and 2 failures arrived
    recorder.wait_for(  # the notes and flaky's second run succeeded, declined ended
        lambda r: worker.log().count("succeeded") >= 4 and "raised expected" in worker.log(),
        timeout=30,
    )
    worker.stop()  # a warm shutdown: running tasks finish, the children send their counts
    totals = recorder.wait_for(lambda r: _session_totals(r, 8), timeout=30)
    assert totals == {"exited": 6, "errored": 0, "crashed": 2, "abnormal": 0}


def _session_totals(recorder, expected):
    """The sessions counted by the children's ``sessions`` items, once ``expected`` arrived."""
    totals = {"exited": 0, "errored": 0, "crashed": 0, "abnormal": 0}
    for envelope in recorder.envelopes():
        for item in envelope.items:
            if item.type == "sessions":
                payload = item.json()
                assert payload["attrs"]["release"] == "billing@3.1.0"
                for bucket in payload["aggregates"]:
                    for key in totals:
                        totals[key] += bucket.get(key, 0)
    return totals if sum(totals.values()) >= expected else None
