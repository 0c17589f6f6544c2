"""releasetag's own SDK and ``send-event`` command against ``releasetag serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import releasetag


def _checkout(cart):
    raise ValueError(f"cart {cart} is empty")


def test_releasetag_client_reports_to_the_collector(collector):
    client = releasetag.Client(
        dsn=collector.dsn, release="own@2.1", environment="qa", default_integrations=False
    )
    try:
        with releasetag.new_scope() as scope:
            scope.set_tag("flow", "checkout")
            try:
                _checkout("c-1")
            except ValueError as exc:
                exc_id = client.capture_exception(exc, scope=scope)
        msg_id = client.capture_message("stock is low", level="warning")
        assert client.flush(timeout=10)
    finally:
        client.close(timeout=5)
    event = collector.event(exc_id)
    assert event["title"] == "ValueError: cart c-1 is empty"
    assert (event["release"], event["environment"]) == ("own@2.1", "qa")
    assert {"key": "flow", "value": "checkout"} in event["tags"]
    frames = event["payload"]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "_checkout" and frames[-1]["in_app"] is True
    assert collector.event(msg_id)["level"] == "warning"
    release = collector.api("GET", "/organizations/local/releases/own@2.1/")
    assert release["eventCount"] == 2 and release["environments"] == ["qa"]


def test_send_event_command_against_the_collector(collector):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "releasetag",
            "send-event",
            "-m",
            "hello",
            "--dsn",
            collector.dsn,
            "--release",
            "cli@1",
            "-E",
            "dev",
            "-t",
            "k:v",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    event_id = json.loads(proc.stdout)["event_id"]
    event = collector.event(event_id)
    assert (event["message"], event["release"], event["environment"]) == ("hello", "cli@1", "dev")
    assert {"key": "k", "value": "v"} in event["tags"]

    bad = collector.dsn.replace("//", "//0000", 1)  # a key the collector does not know
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", "send-event", "-m", "x", "--dsn", bad],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert "401" in proc.stderr or "sentry_key" in proc.stderr
