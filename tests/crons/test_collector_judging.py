"""The collector's monitors: check-ins stored once per run, missed and timed-out runs found by
the judge (and on catch-up), issues opened after the failure threshold with the release of the
last check-in and resolved after the recovery threshold; odd check-ins kept as documented."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasetag.collector import monitor_rules
from releasetag.collector.db.store import Store
from releasetag.protocol.envelope import Item

FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "collector", "fixtures", "collector-0.1.0.sqlite3"
)
CRON = {
    "schedule": {"type": "crontab", "value": "0 * * * *"},
    "checkin_margin": 5,
    "max_runtime": 10,
    "failure_issue_threshold": 2,
    "recovery_threshold": 2,
}


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "db.sqlite3"))
    s.ensure_project("p", "P", "k" * 32)
    try:
        yield s
    finally:
        s.close()


def _project(store: Store) -> int:
    return int(store.project("p")["id"])


def _send(store: Store, *payloads: Any) -> List[Dict[str, Any]]:
    items = [(n, Item.from_json("check_in", p)) for n, p in enumerate(payloads)]
    return monitor_rules.take_check_ins(store, _project(store), items)


def _ci(status: str, cid: str = "a" * 32, slug: str = "job", **extra: Any) -> Dict[str, Any]:
    return {"check_in_id": cid, "monitor_slug": slug, "status": status, **extra}


def _runs(store: Store, slug: str = "job") -> List[str]:
    monitor = next(m for m in store.monitors() if m["slug"] == slug)
    return [r["status"] for r in reversed(store.recent_check_ins(monitor["id"]))]


def test_a_run_counts_once_whatever_order_or_repeats(store):
    assert _send(store, _ci("in_progress", monitor_config=CRON, duration=-4)) == []
    _send(store, _ci("ok", duration=2.5), _ci("ok", duration=9), _ci("in_progress"), _ci("error"))
    monitor = store.monitors()[0]
    assert (monitor["successes"], monitor["failures"]) == (1, 0)
    (run,) = store.recent_check_ins(monitor["id"])
    assert (run["status"], run["duration"]) == ("ok", 2.5)
    # a final status first, its in_progress late: one run, still ok
    _send(store, _ci("ok", cid="b" * 32, duration=1e12), _ci("in_progress", cid="b" * 32))
    assert _runs(store) == ["ok", "ok"]
    assert store.recent_check_ins(monitor["id"])[0]["duration"] is None  # absurd: not kept


def test_bad_check_ins_are_refused_with_their_reason_and_the_rest_kept(store):
    rejected = _send(
        store,
        _ci("ok", slug="nobody"),
        _ci("ok", monitor_config={"schedule": {"type": "crontab", "value": "61 * * * *"}}),
        _ci("ok", monitor_config={**CRON, "timezone": "Mars/Base"}),
        _ci("done", monitor_config=CRON),
        {"check_in_id": "xyz", "monitor_slug": "job", "status": "ok"},
        [1, 2],
        _ci("ok", cid="c" * 32, monitor_config=CRON),
    )
    reasons = {r["item"]: r["reason"] for r in rejected}
    assert "unknown monitor 'nobody'" in reasons[0]
    assert "invalid crontab" in reasons[1]
    assert "invalid timezone" in reasons[2]
    assert "status must be" in reasons[3] and "check_in_id" in reasons[4]
    assert "JSON object" in reasons[5] and 6 not in reasons
    assert _runs(store) == ["ok"]


def _monitor(store: Store) -> Any:
    return store.monitors()[0]


def test_missed_runs_catch_up_and_open_then_resolve_an_issue(store):
    _send(store, _ci("ok", monitor_config=CRON, release="app@7", environment="prod"))
    due = datetime.fromisoformat(_monitor(store)["next_expected"].replace("Z", "+00:00"))
    assert due.minute == 0 and due > datetime.now(timezone.utc)
    assert monitor_rules.judge(store, due + timedelta(minutes=4)) == 0  # within the margin
    # the collector was down three hours: three missed runs, once however often judged
    later = due + timedelta(hours=2, minutes=6)
    assert monitor_rules.judge(store, later) == 3
    assert monitor_rules.judge(store, later) == 0
    assert _runs(store) == ["ok", "missed", "missed", "missed"]
    monitor = _monitor(store)
    assert monitor["failures"] == 3 and monitor["group_id"]
    group = store.group_by_id(monitor["group_id"])
    assert group["status"] == "unresolved"
    events = store.group_events(monitor["group_id"])
    assert len(events) == 2  # the 2nd and 3rd failure (threshold 2), one issue
    assert {e["release"] for e in events} == {"app@7"}
    _send(store, _ci("ok", cid="d" * 32))
    assert store.group_by_id(monitor["group_id"])["status"] == "unresolved"  # 1 of 2
    _send(store, _ci("ok", cid="e" * 32))
    assert store.group_by_id(monitor["group_id"])["status"] == "resolved"
    _send(store, _ci("error", cid="f" * 32), _ci("error", cid="0" * 32))
    assert store.group_by_id(monitor["group_id"])["status"] in ("unresolved", "regressed")


def test_an_in_progress_run_past_its_max_runtime_times_out_once(store):
    # a daily interval: no scheduled run falls due in these minutes, whatever the clock says
    # (with CRON's hourly crontab, a test started at :50 also saw a missed run)
    daily = {"type": "interval", "value": 1, "unit": "day"}
    _send(
        store,
        _ci(
            "in_progress", monitor_config={**CRON, "schedule": daily, "failure_issue_threshold": 1}
        ),
    )
    now = datetime.now(timezone.utc)
    assert monitor_rules.judge(store, now + timedelta(minutes=9)) == 0
    assert monitor_rules.judge(store, now + timedelta(minutes=11)) == 1
    assert _runs(store) == ["timeout"]
    _send(store, _ci("ok", duration=700))  # finishing late changes nothing
    assert _runs(store) == ["timeout"] and _monitor(store)["failures"] == 1


def test_interval_schedules_and_timezones_give_the_next_run():
    start = datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)  # Vienna goes to summer time
    daily = {"schedule": {"type": "crontab", "value": "30 2 * * *"}, "timezone": "Europe/Vienna"}
    nxt = monitor_rules.next_run(daily, start)
    # 02:30 does not exist that day: the run is due when the clock jumps (03:00 CEST), as cron
    assert nxt == datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc)
    assert monitor_rules.next_run(daily, nxt) == datetime(2026, 3, 30, 0, 30, tzinfo=timezone.utc)
    interval = {"schedule": {"type": "interval", "value": 3, "unit": "hour"}}
    assert monitor_rules.next_run(interval, start) == start + timedelta(hours=3)


def test_schema_5_from_a_0_1_0_database(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    shutil.copyfile(FIXTURE, path)
    Store(path).close()
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert int(version[0]) >= 5 and {"monitors", "check_ins"} <= tables


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=6)
    ),
    max_leaves=20,
)
_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "check_in_id": st.sampled_from(["a" * 32, "A" * 32, "0" * 31, ""]) | _JSON,
        "monitor_slug": st.text(max_size=70) | _JSON,
        "status": st.sampled_from(["in_progress", "ok", "error", "missed"]) | _JSON,
        "duration": st.floats(allow_nan=True) | _JSON,
        "monitor_config": st.fixed_dictionaries(
            {
                "schedule": st.fixed_dictionaries(
                    {
                        "type": st.sampled_from(["crontab", "interval", "x"]),
                        "value": st.text(max_size=30) | st.integers(),
                        "unit": st.text(max_size=8),
                    }
                )
            },
            optional={"timezone": st.text(max_size=30) | _JSON, "max_runtime": _JSON},
        )
        | _JSON,
    },
)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("RELEASETAG_FUZZ_EXAMPLES", "60")), deadline=None)
@given(payload=_FIELDS | _JSON)
def test_any_payload_is_taken_or_refused_with_a_reason(payload):
    from releasetag.collector.monitor_intake import Rejected, check_in_from

    try:
        ci = check_in_from(payload)
    except Rejected as exc:
        assert str(exc)
        return
    assert ci["status"] in ("in_progress", "ok", "error") and len(ci["check_in_id"]) == 32
    assert ci["duration"] is None or 0 <= ci["duration"] <= 366 * 86400
