"""The test Celery app plus tasks that segfault or SIGKILL their prefork child, or say its pid."""

import ctypes

from tests.integrations.apps.celery_app import app

__all__ = ["app"]


@app.task(name="tasks.segfault")
def segfault():
    return ctypes.string_at(0)


@app.task(name="tasks.killed")
def killed(card_number):
    """Its child is killed mid-task, as the OOM killer would (the argument must not be sent)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


@app.task(name="tasks.where")
def where(path):
    """Write this child's pid to ``path`` (the test then kills the child between tasks)."""
    import os

    with open(path, "w") as fh:
        fh.write(str(os.getpid()))
