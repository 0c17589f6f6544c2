"""Celery in eager mode (in process) and enabling the integration when celery is imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from celery import Celery
from celery.exceptions import Ignore, Reject

import releasetag
from tests.support.recorder import ROOT

from .conftest import flushed_events, relay_errors


class Expected(Exception):
    pass


EAGER = Celery("eager", broker="memory://", set_as_current=False)
EAGER.conf.task_always_eager = True
EAGER.conf.task_store_eager_result = False


@EAGER.task(name="t.boom")
def boom(x, secret=None):
    raise ValueError(f"boom {x}")


@EAGER.task(name="t.expected", throws=(Expected,))
def expected():
    raise Expected("declared in throws")


@EAGER.task(name="t.ignore")
def ignore():
    raise Ignore()


@EAGER.task(name="t.reject")
def reject():
    raise Reject("no", requeue=False)


@EAGER.task(name="t.tagged")
def tagged(n):
    releasetag.set_tag("task_n", n)
    releasetag.capture_message(f"tagged {n}")


@pytest.fixture
def eager_app():
    return EAGER


def test_eager_failure_is_reported_and_expected_outcomes_are_not(rt, recorder, eager_app):
    rt()
    tasks = eager_app.tasks
    for name in ("t.expected", "t.ignore", "t.reject"):
        tasks[name].delay()
    tasks["t.boom"].delay(3, secret="hunter2")
    (event,) = flushed_events(recorder, 1)
    assert releasetag.flush(5)  # all that was captured is delivered, and so recorded
    assert len(recorder.events()) == 1
    assert event["exception"]["values"][-1]["value"] == "boom 3"
    assert event["contexts"]["celery"]["task_name"] == "t.boom"
    assert "args" not in event["contexts"]["celery"]
    assert event["release"] == "myapp@1.2.3"
    assert relay_errors(event) is None


def test_args_and_kwargs_only_with_send_default_pii(rt, recorder, eager_app):
    rt(send_default_pii=True)
    eager_app.tasks["t.boom"].delay(5, secret="hunter2")
    (event,) = flushed_events(recorder, 1)
    assert event["contexts"]["celery"]["args"] == [5]
    assert event["contexts"]["celery"]["kwargs"] == {"secret": "hunter2"}


def test_each_task_has_its_own_scope(rt, recorder, eager_app):
    rt()
    for n in (1, 2):
        eager_app.tasks["t.tagged"].delay(n)
    releasetag.capture_message("outside")
    events = flushed_events(recorder, 3)
    assert [(e["logentry"]["formatted"], (e.get("tags") or {}).get("task_n")) for e in events] == [
        ("tagged 1", "1"),
        ("tagged 2", "2"),
        ("outside", None),
    ]


def _run(code: str, **env: str) -> str:
    full_env = dict(
        os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **env
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_init_imports_no_framework_and_celery_is_enabled_when_imported_later(recorder):
    out = _run(
        """
        import sys, releasetag
        client = releasetag.init(sys.argv[0] if False else __import__("os").environ["DSN"],
                                 release="late@1")
        print("after init:", "celery" in sys.modules, "flask" in sys.modules,
              sorted(client.integrations))
        from celery import Celery          # the app imports celery after init()
        # celery imports django when it is installed: django's integration follows it
        print("after import:", sorted(set(client.integrations) - {"django", "asyncio"}))
        print("django:", ("django" in sys.modules) == ("django" in client.integrations))
        app = Celery("late", broker="memory://")
        app.conf.task_always_eager = True

        @app.task(name="late.fail")
        def fail():
            raise RuntimeError("late failure")

        fail.delay()
        releasetag.flush(5)
    """,
        DSN=recorder.dsn(),
    )
    lines = out.splitlines()
    assert lines[0] == (
        "after init: False False ['atexit', 'excepthook', 'logging', 'stdlib', 'threading']"
    )
    assert lines[1] == (
        "after import: ['atexit', 'celery', 'excepthook', 'logging', 'stdlib', 'threading']"
    )
    assert lines[2] == "django: True"
    (event,) = recorder.wait_for(lambda r: r.events())
    assert event["contexts"]["celery"]["task_name"] == "late.fail"
    assert "celery" in event["sdk"]["integrations"]


def test_explicit_list_without_defaults_does_not_enable_celery(recorder):
    out = _run(
        """
        import os, releasetag
        client = releasetag.init(os.environ["DSN"], default_integrations=False)
        import celery
        print(sorted(client.integrations))
    """,
        DSN=recorder.dsn(),
    )
    assert out.strip() == "[]"
