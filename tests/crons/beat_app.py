"""A Celery app with beat-scheduled tasks, for a real beat and worker against redis.

APP_INIT_WHERE=worker: init() runs only in the worker (the ``worker_process_init`` /
``worker_init`` signals), so beat runs without the SDK (sentry-python #2823's layout).
"""

import os
from datetime import timedelta

from celery import Celery, signals

import releasetag
from releasetag.integrations.celery import CeleryIntegration


def _init(**_):
    releasetag.init(
        os.environ["APP_DSN"],
        release="jobs@2.0.0",
        environment="ops",
        integrations=[CeleryIntegration(monitor_beat_tasks=True, exclude_beat_tasks=["skip-.*"])],
    )


if os.environ.get("APP_INIT_WHERE") == "worker":
    signals.worker_init.connect(_init, weak=False)
else:
    _init()

app = Celery("beat_app", broker=os.environ["APP_BROKER"])
app.conf.update(
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    timezone="Europe/Vienna",
    beat_schedule={
        "tick-ok": {"task": "jobs.ok", "schedule": timedelta(seconds=1)},
        "tick-fail": {"task": "jobs.fail", "schedule": timedelta(seconds=1)},
        "skip-me": {"task": "jobs.skipped", "schedule": timedelta(seconds=1)},
    },
)


@app.task(name="jobs.ok")
def ok():
    return 1


@app.task(name="jobs.fail")
def fail():
    raise RuntimeError("nightly failed")


@app.task(name="jobs.skipped")
def skipped():
    return 0
