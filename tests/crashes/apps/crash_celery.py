"""The test Celery app plus a task that segfaults its prefork child."""

import ctypes

from tests.integrations.apps.celery_app import app

__all__ = ["app"]


@app.task(name="tasks.segfault")
def segfault():
    return ctypes.string_at(0)
