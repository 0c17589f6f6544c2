"""The event helpers that avoid importing platform/uuid/datetime/sysconfig at init()."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

from releasetag import event


def test_runtime_contexts_match_the_platform_module():
    ctx = event.runtime_contexts()
    assert ctx["runtime"] == {
        "name": platform.python_implementation(),
        "version": platform.python_version(),
        "build": sys.version,
    }
    assert ctx["os"] == {"name": platform.system(), "version": platform.release()}


def test_event_ids_are_random_version_4_uuids():
    ids = {event.new_event_id() for _ in range(200)}
    assert len(ids) == 200
    for value in ids:
        assert len(value) == 32
        parsed = uuid.UUID(hex=value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_utc_timestamp_is_rfc3339_with_microseconds_and_now():
    before = time.time()
    stamp = event.utc_timestamp()
    after = time.time()
    assert stamp.endswith("Z") and len(stamp) == len("2024-01-02T03:04:05.123456Z")
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert before - 1e-6 <= parsed.timestamp() <= after + 1e-6


def test_stdlib_frames_are_not_in_app():
    frames = event.FrameBuilder()
    assert frames.is_in_app("json", json.__file__) is False
    assert frames.is_in_app("myapp.views", "/srv/myapp/views.py") is True


def test_the_client_pipeline_does_not_import_platform_uuid_datetime_or_random():
    # default integrations off: this checks client/event/scope, not the integrations' imports
    code = (
        "import sys, releasetag\n"
        "releasetag.init(dsn='http://key@127.0.0.1:9/1', release='app@1.0',"
        " default_integrations=False)\n"
        "print(' '.join(m for m in ('platform', 'uuid', 'datetime', 'random', 'sysconfig',"
        " 'requests', 'git') if m in sys.modules))\n"
        "import os; os._exit(0)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == []
