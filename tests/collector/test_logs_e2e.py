"""Logs end to end: sentry-sdk's logger and logging integration into a real collector, then
listed by sentry-cli 3.8.2 and ``releasetag logs list`` side by side (the same output), the
Web API's token, paging and bad input, and the pages a person reads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from releasetag.protocol.envelope import Envelope, Item
from tests.support.collector import ROOT, Collector

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
RELEASE = "shop@4.2.0"

APP = textwrap.dedent(
    """
    import logging, sys
    import sentry_sdk
    sentry_sdk.init(dsn=sys.argv[1], release=sys.argv[2], environment="production",
                    enable_logs=True)
    sentry_sdk.logger.info("payment of {amount} declined for {user}", amount=42, user="ann")
    logging.getLogger("shop.cart").warning("cart %s is empty", "c-17")
    logging.getLogger("shop.cart").error("checkout failed for order %d", 991)
    sentry_sdk.metrics.count("checkout.failed", 1)
    sentry_sdk.metrics.distribution("checkout.ms", 120.5, unit="millisecond")
    sentry_sdk.metrics.distribution("checkout.ms", 80.0, unit="millisecond")
    try:
        1 / 0
    except ZeroDivisionError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(10)
    """
)


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logs")
    c = Collector(str(folder / "data"))
    app = folder / "app.py"
    app.write_text(APP)
    res = subprocess.run(
        [sys.executable, str(app), c.dsn, RELEASE],
        capture_output=True, text=True, timeout=60, cwd=str(folder),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    try:
        yield c
    finally:
        c.stop()


def _logs(c, query="", **params):
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    path = f"/organizations/{c.org}/events/?dataset=logs&field=sentry.item_id&field=message"
    path += "&field=severity&field=release&field=environment&field=logger&field=trace"
    return c.api("GET", f"{path}&query={urllib.request.quote(query)}&{qs}")["data"]


def _cli(tool, c, *args, timeout=60):
    cmd = (
        [sys.executable, "-m", "releasetag"]
        if tool == "releasetag"
        else [os.path.join(os.path.dirname(sys.executable), "sentry-cli")]
    )
    env = dict(c.env(), PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), ROOT]))
    return subprocess.run(
        [*cmd, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_sentry_sdk_logs_are_stored_with_their_release_and_found_by_search(collector):
    logs = _logs(collector, f"release:{RELEASE}")
    by_message = {log["message"]: log for log in logs}
    assert set(by_message) == {
        "payment of 42 declined for ann",
        "cart c-17 is empty",
        "checkout failed for order 991",
    }
    assert {log["environment"] for log in logs} == {"production"}
    assert by_message["cart c-17 is empty"]["logger"] == "shop.cart"
    assert by_message["cart c-17 is empty"]["severity"] == "warn"
    assert len({log["trace"] for log in logs}) == 1
    assert [log["message"] for log in _logs(collector, "declined")] == [
        "payment of 42 declined for ann"
    ]
    assert [log["message"] for log in _logs(collector, "severity:error logger:shop.cart")] == [
        "checkout failed for order 991"
    ]
    template = _logs(collector, "declined")
    assert template and _logs(collector, "release:other@1") == []


@pytest.mark.tools("sentry-cli")
def test_sentry_cli_and_releasetag_list_the_same_logs(collector):
    for args in ([], ["--query", "severity:warn"], ["--max-rows", "2"], ["--query", "nomatch"]):
        ours = _cli("releasetag", collector, "logs", "list", *args)
        theirs = _cli("sentry-cli", collector, "logs", "list", *args)
        assert theirs.returncode == 0, theirs.stderr
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout, args
    table = _cli("releasetag", collector, "logs", "list").stdout
    assert "| Item ID" in table and "cart c-17 is empty" in table


@pytest.mark.tools("sentry-cli")
def test_live_mode_prints_each_log_once_like_sentry_cli(collector, tmp_path):
    lines = {}
    for tool in ("releasetag", "sentry-cli"):
        out = tmp_path / f"{tool}.out"
        cmd = (
            [sys.executable, "-m", "releasetag"]
            if tool == "releasetag"
            else [os.path.join(os.path.dirname(sys.executable), "sentry-cli")]
        )
        env = dict(collector.env(), PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), ROOT]))
        with open(out, "wb") as fh:
            proc = subprocess.Popen(
                [*cmd, "logs", "list", "--live", "--poll-interval", "1"],
                stdout=fh, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
            )  # fmt: skip
            time.sleep(3)
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        text = out.read_text("utf-8")
        lines[tool] = sorted(line for line in text.splitlines() if line.count(" | ") == 3)
    assert len(lines["sentry-cli"]) == 3
    assert lines["releasetag"] == lines["sentry-cli"]


def test_the_logs_api_needs_the_token_and_pages(collector):
    path = f"/api/0/organizations/{collector.org}/events/?dataset=logs&field=message"
    status, _ = collector.request("GET", path, token=None)
    assert status == 401
    seen = []
    cursor = "0:0:0"
    for _ in range(5):
        url = f"{path}&per_page=1&query=release:{RELEASE}&cursor={cursor}"
        req = urllib.request.Request(
            collector.url + url, headers={"Authorization": f"Bearer {collector.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            seen += [d["message"] for d in json.loads(resp.read())["data"]]
            link = resp.headers["Link"]
        nxt = [p for p in link.split(", ") if 'rel="next"' in p][0]
        if 'results="false"' in nxt:
            break
        cursor = nxt.split('cursor="')[1].rstrip('"')
    assert len(seen) == 3 and len(set(seen)) == 3
    status, answer = collector.request("GET", path + "&query=bogus:1")
    assert status == 400 and "bogus" in answer["detail"]


def test_metrics_are_aggregated_per_release(collector):
    metrics = collector.api("GET", f"/organizations/{collector.org}/releases/{RELEASE}/metrics/")
    by_name = {(m["name"], m["type"]): m for m in metrics}
    ms = by_name[("checkout.ms", "distribution")]
    assert (ms["count"], ms["sum"], ms["min"], ms["max"]) == (2, 200.5, 80.0, 120.5)
    assert ms["unit"] == "millisecond" and ms["environment"] == "production"
    assert by_name[("checkout.failed", "counter")]["sum"] == 1


def test_pages_show_logs_release_counts_and_the_trace_before_the_error(collector):
    status, page = collector.request("GET", "/logs/?q=declined", token=None)
    assert status == 200 and b"payment of 42 declined for ann" in page
    assert b"cart c-17" not in page
    status, page = collector.request("GET", "/logs/?level=warn", token=None)
    assert b"cart c-17 is empty" in page and b"payment of 42" not in page
    status, page = collector.request("GET", f"/releases/{RELEASE}/", token=None)
    assert status == 200
    assert b">warn</a>: 1" in page and b">error</a>: 1" in page and b">info</a>: 1" in page
    assert b"checkout.ms" in page
    events = collector.events(release=RELEASE)
    (event,) = [e for e in events if "ZeroDivisionError" in json.dumps(e)]
    status, page = collector.request("GET", f"/events/{event['eventID']}/", token=None)
    text = page.decode()
    assert "Logs of this trace before the error" in text
    # the card (the breadcrumbs section above it names the same records)
    card = text[text.index("Logs of this trace before the error") :]
    assert card.index("payment of 42") < card.index("cart c-17") < card.index("checkout failed")


def _envelope(collector, *items):
    env = Envelope({"dsn": collector.dsn})
    for kind, payload in items:
        env.add_item(Item({"type": kind}, payload))
    key = collector.dsn.split("//")[1].split("@")[0]
    return collector.request(
        "POST",
        f"/api/{collector.info['project_id']}/envelope/?sentry_key={key}",
        raw=env.serialize(),
        token=None,
    )


def test_bad_log_items_are_rejected_alone_and_never_a_500(collector):
    good = {"timestamp": time.time(), "level": "info", "body": "hostile neighbour survived",
            "attributes": {"sentry.release": {"value": "bad@1", "type": "string"}}}  # fmt: skip
    event_id = "c" * 32
    status, answer = _envelope(
        collector,
        ("event", json.dumps({"event_id": event_id, "message": "kept", "release": "bad@1"}).encode()),
        ("log", b"\xff\xfe not json"),
        ("log", json.dumps({"items": [good, {"body": "big", "attributes": {
            f"a{i}": {"value": i, "type": "integer"} for i in range(10_000)}}]}).encode()),
        ("log", json.dumps({"items": [{"body": "z" * (1024 * 1024)}]}).encode()),
        ("trace_metric", b'{"items": [{"name": "x", "type": "nope", "value": 1}]}'),
    )  # fmt: skip
    assert status == 200, answer
    assert collector.event(event_id)["eventID"] == event_id
    assert [d["message"] for d in _logs(collector, "hostile neighbour")] == [
        "hostile neighbour survived"
    ]
    assert [d["message"] for d in _logs(collector, "big")] == ["big"]
    rejected = collector.api(
        "GET", f"/projects/{collector.org}/{collector.project}/rejected-items/"
    )
    reasons = {(r["type"], r["reason"]): r["count"] for r in rejected}
    assert reasons[("log", "payload is not valid UTF-8 JSON")] == 1
    assert reasons[("log", "payload is over 1048576 bytes")] == 1
    assert ("trace_metric", next(r for t, r in reasons if t == "trace_metric")) in reasons
