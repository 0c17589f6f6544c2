"""Per-issue counts kept at ingest (db/issue_counts.py, schema step 8): users counted as
Sentry counts them, the counts equal what the stored events say after any mix of events, a
database at version 7 gets them backfilled with its data kept, and the stream, the issue
page and the issues API show and sort by users."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import uuid
from collections import Counter
from typing import Any, Dict, List
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.collector.db import issue_counts, schema
from releasetag.collector.db.store import Store
from releasetag.collector.ingest import summarize

EXAMPLES = int(os.environ.get("RELEASETAG_FUZZ_EXAMPLES", "150"))


def test_users_are_keyed_as_sentry_keys_its_user_tag():
    key = issue_counts.user_key
    assert key({"id": 42, "username": "ann", "email": "a@x.io"}) == "id:42"
    assert key({"id": "42"}) == "id:42"
    assert key({"username": "ann", "email": "a@x.io", "ip_address": "10.0.0.1"}) == "username:ann"
    assert key({"id": "", "email": "a@x.io"}) == "email:a@x.io"
    assert key({"ip_address": "10.0.0.1"}) == "ip:10.0.0.1"
    assert key({"ip_address": "{{auto}}"}) is None  # the collector does not fill it in
    assert key({"id": None, "segment": "paid"}) is None
    assert key({"id": True}) is None and key({"id": {"x": 1}}) is None
    assert key("ann") is None and key(None) is None
    assert issue_counts.user_hash({"email": "a@x.io"}) == issue_counts.user_hash(
        {"email": "a@x.io"}
    )
    assert "a@x.io" not in str(issue_counts.user_hash({"email": "a@x.io"}))


def _event(kind: str, user: Any, release: Any, env: Any, server: Any) -> Dict[str, Any]:
    event: Dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "level": "error",
        "platform": "python",
        "exception": {"values": [{"type": kind, "value": "bad"}]},
    }
    for name, value in (("user", user), ("release", release), ("environment", env)):
        if value is not None:
            event[name] = value
    if server is not None:
        event["server_name"] = server
    return event


def _store_events(store: Store, events: List[Dict[str, Any]]) -> int:
    project = store.ensure_project("p", "p", "k" * 32)
    for event in events:
        store.insert_event(project["id"], event, summarize(event, event["event_id"]))
    return int(project["id"])


def _summaries(db: str) -> Dict[str, List[Any]]:
    conn = sqlite3.connect(db)
    try:
        return {
            t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in issue_counts.SUMMARIES
        }
    finally:
        conn.close()


def _from_events(db: str) -> Dict[str, Any]:
    """What the stored events say, counted here in Python from their rows."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT group_id, received, release, environment, payload FROM events")
        events, days, releases, servers = Counter(), Counter(), Counter(), Counter()
        users: Dict[int, set] = {}
        for group, received, release, env, payload in rows:
            event = json.loads(payload)
            events[group] += 1
            days[(group, received[:10])] += 1
            releases[(group, release or "", env or "")] += 1
            server = event.get("server_name")
            # a server name ends at a NUL (SQLite's json_extract reads it so)
            name = server.split("\x00")[0][:200] if isinstance(server, str) else ""
            servers[(group, name)] += 1
            key = issue_counts.user_key(event.get("user"))
            users.setdefault(group, set()).update([key] if key else [])
        return {
            "counts": sorted((g, n, len(users[g])) for g, n in events.items()),
            "days": sorted(k + (n,) for k, n in days.items()),
            "releases": sorted(k + (n,) for k, n in releases.items()),
            "servers": sorted(k + (n,) for k, n in servers.items()),
        }
    finally:
        conn.close()


def _as_summaries(tables: Dict[str, List[Any]]) -> Dict[str, Any]:
    def tally(tag: str, with_env: bool) -> List[Any]:
        return sorted(
            (r[0], r[2]) + ((r[3],) if with_env else ()) + (r[4],)
            for r in tables["group_tallies"]
            if r[1] == tag
        )

    return {
        "counts": [r[:3] for r in tables["group_counts"]],
        "days": tally("day", False),
        "releases": tally("release", True),
        "servers": tally("server", False),
    }


_values = st.one_of(
    st.none(),
    st.text(max_size=4),
    st.integers(-3, 3),
    st.booleans(),
    st.just("{{auto}}"),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
_users = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.fixed_dictionaries(
        {},
        optional={f: _values for f in ("id", "username", "email", "ip_address", "segment")},
    ),
)
_events = st.lists(
    st.builds(
        _event,
        st.sampled_from(["KeyError", "ValueError", "OSError"]),
        _users,
        st.one_of(st.none(), st.sampled_from(["1.0", "2.0", ""])),
        st.one_of(st.none(), st.sampled_from(["production", "staging", ""])),
        st.one_of(st.none(), st.text(max_size=3), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=max(10, EXAMPLES // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(events=_events)
def test_the_counts_kept_at_ingest_equal_the_stored_events_and_the_backfill(events):
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "c.db")
        store = Store(db)
        try:
            _store_events(store, events)
            with store.write() as c:
                kept = _summaries(db)
                issue_counts.rebuild(c)  # the backfill of migration 8
        finally:
            store.close()
        assert _as_summaries(kept) == _from_events(db)
        assert _summaries(db) == kept


def _v7_database(db: str) -> None:
    """A database at version 7 holding 2 issues and 300 events, written as version 7 wrote
    them (no summaries): issue 1 seen by 40 users (by id, username, email or address) and by
    events without a user, issue 2 by nobody."""
    Store(db, [s for s in schema.MIGRATIONS if s[0] <= 7]).close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO projects VALUES (1, 'p', 'p', ?, '2026-01-01')", ("k" * 32,))
        for g in (1, 2):
            conn.execute(
                "INSERT INTO groups(id, project_id, short_num, hash, fingerprint, title, "
                "first_seen) VALUES (?, 1, ?, ?, '[]', 'E', '2026-01-01')",
                (g, g, f"h{g}"),
            )
        for n in range(300):
            user: Any = (
                [
                    {"id": n // 6 % 10},
                    {"username": f"u{n // 6 % 10}"},
                    {"email": f"{n // 6 % 10}@x.io", "ip_address": "10.0.0.1"},
                    {"ip_address": f"10.0.0.{n // 6 % 10}"},
                    {"ip_address": "{{auto}}"},
                    None,
                ][n % 6]
                if n < 240
                else None
            )
            payload = {"server_name": f"web-{n % 3}", **({"user": user} if user else {})}
            conn.execute(
                "INSERT INTO events(event_id, project_id, received, release, environment, "
                "group_id, payload) VALUES (?, 1, ?, ?, 'prod', ?, ?)",
                (
                    f"{n:032x}",
                    f"2026-01-{1 + n % 3:02d}T10:00:00Z",
                    "1.0" if n % 2 else None,
                    1 if n < 240 else 2,
                    json.dumps(payload),
                ),
            )


def test_a_version_7_database_gets_its_counts_backfilled_and_keeps_its_data(tmp_path):
    db = str(tmp_path / "collector.sqlite3")
    _v7_database(db)
    before = sqlite3.connect(db)
    events_before = before.execute("SELECT * FROM events ORDER BY id").fetchall()
    before.close()
    store = Store(db)
    try:
        assert store.schema_versions == (7, schema.NEWEST)
        one, two = store.group_event_stats(1), store.group_event_stats(2)
        # issue 1: ids 0-9, usernames u0-u9, emails (over the address), addresses 10.0.0.0-9
        assert (one["times_seen"], one["user_count"]) == (240, 40)
        assert (two["times_seen"], two["user_count"]) == (60, 0)
        assert one["last_event_id"] == f"{239:032x}" and one["last_seen"] == "2026-01-03T10:00:00Z"
        assert {(r["version"], r["times_seen"]) for r in store.group_releases(1)} == {
            ("1.0", 120),
            (None, 120),
        }
    finally:
        store.close()
    after = sqlite3.connect(db)
    try:
        assert after.execute("SELECT * FROM events ORDER BY id").fetchall() == events_before
        tally = "SELECT value, events FROM group_tallies WHERE group_id = ? AND tag = ?"
        servers = after.execute(tally, (1, "server"))
        assert sorted(servers) == [("web-0", 80), ("web-1", 80), ("web-2", 80)]
        days = after.execute(tally, (2, "day"))
        assert sorted(days) == [("2026-01-01", 20), ("2026-01-02", 20), ("2026-01-03", 20)]
        for table in issue_counts.SUMMARIES:  # no name, address or id of a user in them
            for row in after.execute(f"SELECT * FROM {table}"):
                assert not re.search(r"@x\.io|10\.0\.0\.|\bu\d\b|id:", repr(row)), row
        assert after.execute("SELECT COUNT(*) FROM group_users").fetchone() == (40,)
    finally:
        after.close()
    assert _as_summaries(_summaries(db)) == _from_events(db)
    indexes = sqlite3.connect(db)
    try:
        names = {r[0] for r in indexes.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        indexes.close()
    assert "events_group_received" not in names and "events_group_release" in names


@pytest.mark.slow
def test_the_stream_the_issue_page_and_the_api_show_and_sort_by_users(tmp_path):
    from tests.collector.test_issues import ISSUES, error, send
    from tests.support.collector import Collector

    c = Collector(str(tmp_path / "data"))
    try:
        for n in range(6):  # KeyError: 6 events by 2 users
            send(c, user={"id": str(n % 2)}, **error(type_="KeyError"))
        for n in range(3):  # ValueError: 3 events by 3 users, one only by address
            user = {"email": f"{n}@x.io"} if n else {"ip_address": "10.1.1.1"}
            send(c, user=user, environment="staging", **error(type_="ValueError"))
        send(c, **error(type_="OSError"))  # no user
        by_users = c.api("GET", ISSUES + "?sort=user")
        assert [(i["metadata"]["type"], i["userCount"]) for i in by_users] == [
            ("ValueError", 3),
            ("KeyError", 2),
            ("OSError", 0),
        ]
        by_events = c.api("GET", ISSUES + "?sort=freq")
        assert [i["metadata"]["type"] for i in by_events] == ["KeyError", "ValueError", "OSError"]
        status, body = c.request("GET", "/api/0" + ISSUES + "?sort=users")
        assert status == 400 and "date, new, freq, user" in body["detail"]
        status, page = c.request("GET", "/issues/?sort=users&environment=staging", token=None)
        text = page.decode()
        assert status == 200 and "<th class=num>users</th>" in text
        assert '<option value="users" selected>users</option>' in text
        rows = re.findall(r"<b>(LOCAL-\d+)</b>.*?<td class=num>(\d+)</td><td class=num>(\d+)", text)
        assert [(n, u) for _, n, u in rows] == [("3", "3")]  # the filter still applies
        status, page = c.request("GET", "/issues/?sort=users&status=all", token=None)
        rows = re.findall(
            r"<b>(LOCAL-\d+)</b>.*?<td class=num>(\d+)</td><td class=num>(\d+)", page.decode()
        )
        assert [u for _, _, u in rows] == ["3", "2", "0"]
        key_error = by_users[1]["shortId"]
        status, page = c.request("GET", f"/issues/{quote(key_error)}/", token=None)
        assert status == 200 and re.search(r"<td>users</td><td class=num>2</td>", page.decode())
    finally:
        c.stop()
