"""Celery tasks run by a real worker in the tests (broker: the fixture's redis-server)."""

import os

from celery import Celery
from celery.exceptions import Ignore, Reject

import releasetag

releasetag.init(
    os.environ["APP_DSN"],
    release=os.environ["APP_RELEASE"],
    environment=os.environ["APP_ENVIRONMENT"],
    send_default_pii=os.environ.get("APP_PII") == "1",
)

app = Celery("celery_app", broker=os.environ["APP_BROKER"])
app.conf.update(
    broker_connection_retry_on_startup=True,
    worker_max_tasks_per_child=int(os.environ.get("APP_MAX_TASKS", "0")) or None,
    task_ignore_result=True,
)


class OrderDeclined(Exception):
    """An expected outcome, declared in the task's ``throws``."""


@app.task(name="tasks.charge")
def charge(order_id, card=None):
    raise ValueError(f"card declined for order {order_id}")


@app.task(name="tasks.flaky", bind=True)
def flaky(self):
    if self.request.retries == 0:
        raise self.retry(countdown=0, max_retries=2)
    return "second time lucky"


@app.task(name="tasks.ignored")
def ignored():
    raise Ignore()


@app.task(name="tasks.rejected")
def rejected():
    raise Reject("not today", requeue=False)


@app.task(name="tasks.declined", throws=(OrderDeclined,))
def declined():
    raise OrderDeclined("expected")


@app.task(name="tasks.note")
def note(text):
    releasetag.capture_message(f"note: {text}")
