"""A collector database of a given size for the page bench and the query-plan test: events
spread over issues, releases and environments (9 in 10 with one of 5,000 users), written
straight into SQLite (fast), then counted into the per-issue summaries as migration 8 does."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta, timezone

from releasetag.collector.db import issue_counts
from releasetag.collector.db.store import Store


def build(path: str, events: int, issues: int, releases: int, seed: int = 7) -> Store:
    """A migrated store at ``path`` holding the given numbers of rows; returns it open."""
    store = Store(path)
    project = store.ensure_project("shop", "shop", "k" * 32)
    rnd = random.Random(seed)
    who = random.Random(seed + 1)  # the users: the rest stays as it was without them
    start = datetime.now(timezone.utc) - timedelta(days=60)
    conn = sqlite3.connect(path)
    with conn:
        for r in range(releases):
            when = (start + timedelta(hours=r * 7)).isoformat()
            conn.execute(
                "INSERT INTO releases(version, date_created) VALUES (?, ?)", (f"shop@1.{r}", when)
            )
            conn.execute(
                "INSERT INTO release_projects(release_id, project_id) VALUES (?, ?)",
                (r + 1, project["id"]),
            )
        for g in range(issues):
            conn.execute(
                "INSERT INTO groups(project_id, short_num, hash, fingerprint, title, culprit, "
                "level, type, exception_type, exception_value, first_seen, first_release_id, "
                "status) VALUES (?, ?, ?, '[]', ?, ?, ?, 'error', ?, ?, ?, ?, ?)",
                (
                    project["id"], g + 1, f"h{g}", f"KeyError{g}: 'k'", f"shop.views in f{g}",
                    rnd.choice(["error", "error", "warning", "fatal"]), f"KeyError{g}", "'k'",
                    start.isoformat(), 1 + g % releases,
                    rnd.choice(["unresolved", "unresolved", "resolved", "ignored"]),
                ),
            )  # fmt: skip
        rows = []
        for n in range(events):
            g = int(rnd.paretovariate(1.2)) % issues
            rel = min(releases - 1, g % releases + rnd.randrange(3))
            when = (start + timedelta(seconds=n * 50)).isoformat()
            payload = {
                "level": "error",
                "server_name": f"web-{n % 5}",
                "user": {"id": str(who.randrange(5000))} if n % 10 else {"ip_address": "{{auto}}"},
                "exception": {"values": [{"type": f"KeyError{g}", "value": "'k'"}]},
            }
            rows.append(
                (
                    f"{n:032x}", project["id"], when, when, "error", "python", f"shop@1.{rel}",
                    rnd.choice(["production", "staging"]), f"KeyError{g}: 'k'", f"KeyError{g}",
                    "'k'", f"shop.views in f{g}", g + 1, json.dumps(payload),
                )
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO events(event_id, project_id, received, timestamp, level, platform, "
            "release, environment, title, exception_type, exception_value, culprit, group_id, "
            "payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        issue_counts.rebuild(conn)
    conn.execute("ANALYZE")
    conn.close()
    return store


PAGES = [
    "/",
    "/releases/",
    "/issues/",
    "/issues/?status=all&sort=events",
    "/issues/?status=all&sort=first_seen&release=shop%401.5",
    "/issues/?environment=staging&level=error&q=KeyError1",
    "/issues/?first_release=shop%401.3&page=2",
    "/issues/?status=all&sort=users",
    "/issues/?sort=users&release=shop%401.5&level=error",
    "/issues/2/",  # the issue with the most events
    "/releases/shop%401.1/",
    "/events/",
]
