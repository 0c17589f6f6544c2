"""The test Celery app plus a task that takes a second (running when the worker is told to
stop) and captures a message."""

import time

import releasetag
from tests.integrations.apps.celery_app import app

__all__ = ["app"]


@app.task(name="tasks.slow_note")
def slow_note(text):
    time.sleep(1.0)
    releasetag.capture_message(f"slow note: {text}")
