"""Release health in the collector: sessions from releasetag and from sentry-sdk stored and
answered through Sentry's Sessions API and ``healthData``; bad items rejected alone."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from typing import Any, List

import pytest

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Envelope, Item
from releasetag.protocol.session_fields import wire_time
from tests.support.collector import Collector
from tests.support.recorder import ROOT

pytestmark = pytest.mark.timeout(120)


def _post(collector: Collector, envelope: Envelope):
    dsn = Dsn.parse(collector.dsn)
    return collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=envelope.serialize(),
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": f"Sentry sentry_key={dsn.public_key}, sentry_version=7",
        },
        token=None,
    )


def _sessions_api(collector: Collector, *params: str, expect: int = 200) -> Any:
    status, body = collector.request(
        "GET", f"/api/0/organizations/{collector.org}/sessions/?" + "&".join(params)
    )
    assert status == expect, body
    return body


def _update(sid: str, status: str, seq: int, release: str = "app@1", **extra: Any) -> Item:
    now = time.time()
    payload = {
        "sid": sid,
        "init": seq == 1,
        "started": wire_time(now - 5),
        "timestamp": wire_time(now),
        "duration": 5.0,
        "seq": seq,
        "errors": extra.pop("errors", 0),
        "status": status,
        "attrs": {"release": release, "environment": extra.pop("environment", "production")},
        **extra,
    }
    return Item.from_json("session", payload)


def _aggregate(release: str, environment: str, **counts: int) -> Item:
    minute = int(time.time()) // 60 * 60
    return Item.from_json(
        "sessions",
        {
            "attrs": {"release": release, "environment": environment},
            "aggregates": [{"started": wire_time(minute), **counts}],
        },
    )


def _script(code: str, dsn: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={"DSN": dsn, "PATH": "/usr/bin:/bin", "PYTHONPATH": ROOT + "/src:" + ROOT},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr


def test_releasetag_and_sentry_sdk_sessions_are_counted_the_same_way(collector):
    # request mode: 6 requests, one handled error, one crash, through each SDK's middleware
    for sdk in ("releasetag", "sentry_sdk"):
        _script(
            f"""
            import os
            SDK = {sdk!r}
            if SDK == "releasetag":
                import releasetag as sdk
                from releasetag.integrations.wsgi import ReleasetagMiddleware as M
            else:
                import sentry_sdk as sdk
                from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware as M
            sdk.init(os.environ["DSN"], release="web@{sdk}", environment="production")

            def app(environ, start_response):
                if environ["PATH_INFO"] == "/crash":
                    raise RuntimeError("boom")
                if environ["PATH_INFO"] == "/handled":
                    try:
                        1 / 0
                    except ZeroDivisionError:
                        sdk.capture_exception()
                start_response("200 OK", [])
                return [b"ok"]

            for path in ["/", "/", "/", "/", "/handled", "/crash"]:
                env = {{"PATH_INFO": path, "REQUEST_METHOD": "GET", "SERVER_NAME": "x",
                        "SERVER_PORT": "80", "wsgi.url_scheme": "http"}}
                try:
                    M(app)(env, lambda *a, **k: None)
                except RuntimeError:
                    pass
            sdk.flush()
            """,
            collector.dsn,
        )
    answer = _sessions_api(
        collector,
        "field=sum(session)",
        "field=crash_free_rate(session)",
        "field=crash_rate(session)",
        "groupBy=release",
        "statsPeriod=1h",
        "interval=1h",
    )
    groups = {g["by"]["release"]: g["totals"] for g in answer["groups"]}
    assert set(groups) == {"web@releasetag", "web@sentry_sdk"}
    for totals in groups.values():
        assert totals["sum(session)"] == 6
        assert totals["crash_free_rate(session)"] == pytest.approx(5 / 6)
        assert totals["crash_rate(session)"] == pytest.approx(1 / 6)
    by_status = _sessions_api(
        collector, "field=sum(session)", "groupBy=session.status", "query=release:web@sentry_sdk"
    )
    counts = {g["by"]["session.status"]: g["totals"]["sum(session)"] for g in by_status["groups"]}
    assert counts == {"healthy": 4, "errored": 1, "crashed": 1}


def test_application_sessions_of_sentry_sdk_and_releasetag_with_users(collector):
    for n, (sdk, user, fail) in enumerate(
        [("releasetag", "u1", False), ("releasetag", "u2", True), ("sentry_sdk", "u3", False)]
    ):
        _script(
            f"""
            import os
            import {sdk} as sdk
            sdk.init(os.environ["DSN"], release="job@1", environment="batch",
                     **({{"session_mode": "application"}} if {sdk!r} == "releasetag" else {{}}))
            sdk.set_user({{"id": {user!r}}})
            if {sdk!r} == "sentry_sdk":
                sdk.get_isolation_scope().start_session(session_mode="application")
            if {fail!r}:
                raise SystemError("job {n} crashed")
            if {sdk!r} == "sentry_sdk":
                sdk.get_isolation_scope().end_session()
            sdk.flush()
            """,
            collector.dsn,
        )
    answer = _sessions_api(
        collector,
        "field=sum(session)",
        "field=count_unique(user)",
        "field=crash_free_rate(user)",
        "field=crash_free_rate(session)",
        "query=release:job@1",
        "environment=batch",
        "statsPeriod=1h",
        "interval=5m",
    )
    (group,) = answer["groups"]
    assert group["totals"] == {
        "sum(session)": 3,
        "count_unique(user)": 3,
        "crash_free_rate(user)": pytest.approx(2 / 3),
        "crash_free_rate(session)": pytest.approx(2 / 3),
    }
    assert len(answer["intervals"]) == len(group["series"]["sum(session)"]) >= 12
    assert sum(group["series"]["sum(session)"]) == 3


def test_updates_are_idempotent_and_never_lower_a_final_status(collector):
    sid = str(uuid.uuid4())
    for item in [
        _update(sid, "ok", 1, errors=1),
        _update(sid, "crashed", 3, errors=2),
        _update(sid, "ok", 2, errors=1),  # late, lower seq
        _update(sid, "crashed", 3, errors=2),  # duplicate
        _update(sid, "exited", 4, errors=2),  # higher seq, but crashed stays
    ]:
        status, body = _post(collector, Envelope({}, [item]))
        assert status == 200 and "rejected" not in body, body
    answer = _sessions_api(collector, "field=sum(session)", "groupBy=session.status")
    counts = {g["by"]["session.status"]: g["totals"]["sum(session)"] for g in answer["groups"]}
    assert counts == {"crashed": 1}


def test_bad_session_items_are_rejected_alone_with_their_reason(collector):
    future = wire_time(time.time() + 3600)
    good_event = Item.from_json("event", {"event_id": uuid.uuid4().hex, "message": "kept"})
    bad: List[Item] = [
        _update(str(uuid.uuid4()), "sleeping", 1),
        _update(str(uuid.uuid4()), "ok", 1, started=future, timestamp=future),
        _update(
            str(uuid.uuid4()),
            "exited",
            1,
            started=wire_time(time.time()),
            timestamp=wire_time(time.time() - 60),
        ),
        _update(str(uuid.uuid4()), "exited", 1, duration=-1),
        Item.from_json(
            "session",
            {
                "sid": str(uuid.uuid4()),
                "started": wire_time(time.time()),
                "status": "exited",
                "attrs": {},
            },
        ),
        Item.from_bytes("sessions", b"{not json"),
        Item.from_json(
            "sessions",
            {"attrs": {"release": "app@1"}, "aggregates": [{"started": 1, "exited": -4}]},
        ),
    ]
    kept = _aggregate("app@1", "production", exited=5, crashed=1)
    status, body = _post(collector, Envelope({}, [good_event, *bad, kept]))
    assert status == 200, body
    reasons = [(r["item"], r["reason"]) for r in body["rejected"]]
    assert [n for n, _ in reasons] == list(range(1, 8))
    text = " | ".join(r for _, r in reasons)
    for expected in [
        "unknown status 'sleeping'",
        "started is in the future",
        "started is after timestamp",
        "duration is negative",
        "attrs.release is missing",
        "sessions payload is not valid JSON",
        "aggregates[0]: exited must be a non-negative integer",
    ]:
        assert expected in text, text
    assert collector.events()[0]["message"] == "kept"
    answer = _sessions_api(collector, "field=sum(session)", "field=crash_free_rate(session)")
    assert answer["groups"][0]["totals"] == {
        "sum(session)": 6,
        "crash_free_rate(session)": pytest.approx(5 / 6),
    }
    counted = collector.api("GET", f"/projects/{collector.org}/{collector.project}/rejected-items/")
    assert sum(r["count"] for r in counted) == 7
    assert {r["type"] for r in counted} == {"session", "sessions"}


def test_health_data_of_releases_with_adoption(collector):
    items = [
        _aggregate("shop@1", "production", exited=30, crashed=0),
        _aggregate("shop@2", "production", exited=8, errored=1, crashed=1),
        _aggregate("shop@2", "staging", exited=5),
    ]
    status, _ = _post(collector, Envelope({}, items))
    assert status == 200
    base = f"/organizations/{collector.org}/releases/shop@2/"
    plain = collector.api("GET", base)
    assert "healthData" not in plain["projects"][0]
    assert plain["projects"][0]["hasHealthData"] is True
    release = collector.api("GET", base + "?health=1&environment=production")
    health = release["projects"][0]["healthData"]
    assert health["totalSessions"] == 10 and health["sessionsCrashed"] == 1
    assert health["crashFreeSessions"] == pytest.approx(90.0)
    assert health["crashFreeUsers"] is None  # no user ids in request-mode sessions
    assert health["sessionsAdoption"] == pytest.approx(100 * 10 / 40)
    assert health["totalProjectSessions24h"] == 40
    assert sum(n for _ts, n in health["stats"]["24h"]) == 10
    assert health["firstSessionSeen"] and health["lastSessionSeen"]
    listed = collector.api("GET", f"/organizations/{collector.org}/releases/?health=1")
    by_version = {r["version"]: r["projects"][0]["healthData"] for r in listed}
    assert by_version["shop@1"]["crashFreeSessions"] == 100.0
    assert by_version["shop@2"]["totalSessions"] == 15  # both environments


@pytest.mark.parametrize(
    "params, message",
    [
        (["field=sum(sessions)"], "unknown field"),
        ([], "at least one field"),
        (["field=sum(session)", "groupBy=user"], "unknown groupBy"),
        (["field=crash_free_rate(session)", "groupBy=session.status"], "cannot be grouped"),
        (["field=sum(session)", "statsPeriod=forever"], "invalid statsPeriod"),
        (["field=sum(session)", "interval=10s"], "at least 1m"),
        (["field=sum(session)", "query=is:unresolved"], "unsupported query key"),
        (["field=sum(session)", "project=shop"], "numeric project id"),
        (["field=sum(session)", "start=yesterday"], "invalid time"),
    ],
)
def test_bad_sessions_api_queries_get_a_one_line_400(collector, params, message):
    body = _sessions_api(collector, *params, expect=400)
    assert message in body["detail"] and "\n" not in body["detail"]


def test_the_sessions_api_needs_the_token(collector):
    status, _ = collector.request(
        "GET", f"/api/0/organizations/{collector.org}/sessions/?field=sum(session)", token=None
    )
    assert status == 401
    status, _ = collector.request(
        "GET", f"/api/0/organizations/{collector.org}/sessions/?field=sum(session)", token="x"
    )
    assert status == 401


def test_sessions_survive_a_restart(tmp_path):
    data = str(tmp_path / "data")
    first = Collector(data)
    try:
        assert _post(first, Envelope({}, [_aggregate("svc@1", "prod", exited=3)]))[0] == 200
    finally:
        first.kill9()
        first.stop()
    second = Collector(data)
    try:
        answer = _sessions_api(second, "field=sum(session)", "query=release:svc@1")
        assert answer["groups"][0]["totals"]["sum(session)"] == 3
        assert json.dumps(answer)  # plain JSON, no NaN
    finally:
        second.stop()
