"""SQLite storage of the local collector: schema and every query, in one place.

One database file in WAL mode. Each thread reads through its own connection; writes go through
``Store.write()`` which serializes writers with a lock and commits before returning, so a
caller that answers 200 after ``write()`` has its data on disk as far as a process crash is
concerned (``synchronous=NORMAL`` in WAL mode survives kill -9; only an OS crash can lose the
last transactions).

The tables keep events, releases, repositories, commits (with their changed files), deploys and
artifacts apart. Events are grouped into issues (``groups``, see ``grouping.py``) inside the
transaction that stores them (``events.group_id``); counts, last seen and per-release facts are
queries over the events of a group, regressions are rows of ``group_regressions``; suspect
commits are queries over ``commit_files`` (``insights.py``). Events of a database from before
grouping are grouped when it is opened (``db.issues.backfill``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from releasetag.protocol.timefmt import now_iso

from ..grouping import GroupKey
from . import issues, sessions

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    public_key TEXT NOT NULL UNIQUE, date_created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    received TEXT NOT NULL, timestamp TEXT, level TEXT, platform TEXT,
    release TEXT, environment TEXT, dist TEXT, title TEXT, message TEXT,
    exception_type TEXT, exception_value TEXT, culprit TEXT,
    group_id INTEGER, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_release ON events(project_id, release, environment);
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY, event_id TEXT NOT NULL REFERENCES events(event_id),
    filename TEXT, content_type TEXT, attachment_type TEXT, size INTEGER NOT NULL,
    data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS client_reports (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, received TEXT NOT NULL,
    payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY, version TEXT NOT NULL UNIQUE, url TEXT, ref TEXT,
    status TEXT NOT NULL DEFAULT 'open', date_created TEXT NOT NULL, date_started TEXT,
    date_released TEXT);
CREATE TABLE IF NOT EXISTS release_projects (
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    PRIMARY KEY (release_id, project_id));
CREATE TABLE IF NOT EXISTS repos (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT, provider TEXT,
    date_created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commits (
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id), key TEXT NOT NULL,
    message TEXT, author_name TEXT, author_email TEXT, timestamp TEXT,
    UNIQUE (repo_id, key));
CREATE TABLE IF NOT EXISTS commit_files (
    commit_id INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE,
    path TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY (commit_id, path));
CREATE TABLE IF NOT EXISTS release_commits (
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    commit_id INTEGER NOT NULL REFERENCES commits(id), ord INTEGER NOT NULL,
    PRIMARY KEY (release_id, commit_id));
CREATE TABLE IF NOT EXISTS release_heads (
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    repo_id INTEGER NOT NULL REFERENCES repos(id), commit_key TEXT NOT NULL,
    previous_commit TEXT, PRIMARY KEY (release_id, repo_id));
CREATE TABLE IF NOT EXISTS deploys (
    id INTEGER PRIMARY KEY, release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    environment TEXT NOT NULL, name TEXT, url TEXT, date_started TEXT, date_finished TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (sha1 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
    id INTEGER PRIMARY KEY, checksum TEXT NOT NULL UNIQUE, bundle_id TEXT, release TEXT,
    dist TEXT, projects TEXT, file_count INTEGER NOT NULL, size INTEGER NOT NULL,
    date_added TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts (
    id INTEGER PRIMARY KEY, bundle_id INTEGER REFERENCES bundles(id) ON DELETE CASCADE,
    release_id INTEGER REFERENCES releases(id) ON DELETE CASCADE,
    release TEXT, dist TEXT, name TEXT NOT NULL, type TEXT, debug_id TEXT, headers TEXT,
    sha1 TEXT NOT NULL, size INTEGER NOT NULL, date_added TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS artifacts_release ON artifacts(release, dist);
CREATE INDEX IF NOT EXISTS artifacts_debug_id ON artifacts(debug_id);
CREATE TABLE IF NOT EXISTS debug_files (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    checksum TEXT NOT NULL, name TEXT NOT NULL, debug_id TEXT, code_id TEXT, object_name TEXT,
    cpu_name TEXT, kind TEXT, size INTEGER NOT NULL, date_added TEXT NOT NULL,
    data BLOB NOT NULL, UNIQUE (project_id, checksum));
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    short_num INTEGER NOT NULL, hash TEXT NOT NULL, fingerprint TEXT NOT NULL,
    title TEXT, culprit TEXT, level TEXT, type TEXT, exception_type TEXT, exception_value TEXT,
    first_seen TEXT NOT NULL, first_release_id INTEGER, first_event_id TEXT,
    status TEXT NOT NULL DEFAULT 'unresolved', resolved_kind TEXT, resolved_release_id INTEGER,
    resolved_by TEXT, resolved_at TEXT, assignee_name TEXT, assignee_email TEXT,
    UNIQUE (project_id, hash), UNIQUE (project_id, short_num));
CREATE INDEX IF NOT EXISTS events_group ON events(group_id);
CREATE TABLE IF NOT EXISTS group_regressions (
    id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    release_id INTEGER, environment TEXT, resolved_release_id INTEGER, event_id TEXT,
    date TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commit_issue_refs (
    id INTEGER PRIMARY KEY, release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    commit_key TEXT NOT NULL, short_id TEXT NOT NULL, group_id INTEGER,
    outcome TEXT NOT NULL, reason TEXT, date TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    project_id INTEGER NOT NULL REFERENCES projects(id), sid TEXT NOT NULL, did TEXT,
    release TEXT NOT NULL, environment TEXT NOT NULL DEFAULT '', started REAL NOT NULL,
    updated REAL NOT NULL, duration REAL, seq INTEGER NOT NULL, errors INTEGER NOT NULL,
    status TEXT NOT NULL, PRIMARY KEY (project_id, sid));
CREATE INDEX IF NOT EXISTS sessions_release ON sessions(release, environment, started);
CREATE TABLE IF NOT EXISTS session_counts (
    project_id INTEGER NOT NULL REFERENCES projects(id), release TEXT NOT NULL,
    environment TEXT NOT NULL DEFAULT '', started INTEGER NOT NULL, did TEXT NOT NULL DEFAULT '',
    exited INTEGER NOT NULL DEFAULT 0, errored INTEGER NOT NULL DEFAULT 0,
    crashed INTEGER NOT NULL DEFAULT 0, abnormal INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, release, environment, started, did));
CREATE INDEX IF NOT EXISTS session_counts_started ON session_counts(started);
CREATE TABLE IF NOT EXISTS rejected_items (
    project_id INTEGER NOT NULL, item_type TEXT NOT NULL, reason TEXT NOT NULL,
    count INTEGER NOT NULL, last_seen TEXT NOT NULL,
    PRIMARY KEY (project_id, item_type, reason));
CREATE TABLE IF NOT EXISTS deploy_notifications (
    id INTEGER PRIMARY KEY, deploy_id INTEGER NOT NULL REFERENCES deploys(id) ON DELETE CASCADE,
    name TEXT, email TEXT NOT NULL, status TEXT NOT NULL, detail TEXT, date TEXT NOT NULL);
"""


def to_iso(value: Any) -> Optional[str]:
    """An event/API timestamp (unix float or RFC 3339 string) as RFC 3339 text, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"
            )
        except (OverflowError, OSError, ValueError):
            return None
    return str(value)[:64]


def _event_json(event: Dict[str, Any]) -> str:
    """The stored form of an event. Events arrive as parsed JSON, so they hold no cycles:
    encoding without the cycle check is about 15% faster (a resolved JS event is large);
    anything else falls back to the checked encoder."""
    try:
        return json.dumps(
            event, ensure_ascii=False, separators=(",", ":"), default=str, check_circular=False
        )
    except RecursionError:
        return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


class Store:
    """The collector's database: open with a path, then call the query methods from any thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self._local = threading.local()
        # bumped whenever artifacts or debug files come or go: resolvers cache lookups by it
        self.artifacts_generation = 0
        self._write_lock = threading.Lock()
        self._all: List[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._group = threading.Condition()
        self._queue: List[_Work] = []
        self._leader = False
        # (release, project_id) pairs known to exist, so ingest skips re-creating them
        self._known_releases: set = set()
        # release version -> id, for grouping at ingest (cleared when a release is deleted)
        self._release_ids: Dict[str, int] = {}
        self._projects: Dict[str, sqlite3.Row] = {}
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        with self._write_lock:
            conn.executescript(SCHEMA)
        with self.write() as c:
            c.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        if issues.has_ungrouped_events(self):
            issues.backfill(self)  # a database from before issues: group its events

    # -- connections ---------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._conns_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on an exception."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # SQLite already rolled back after SQLITE_FULL
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def group_write(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``work(conn)`` in a write transaction shared with concurrent callers and return
        its result once that transaction is committed.

        Group commit: the first caller becomes the leader and commits everything queued so
        far in one transaction (each piece of work in its own savepoint, so one failure does
        not undo the others); callers that arrive meanwhile wait and form the next batch."""
        item = _Work(work)
        with self._group:
            self._queue.append(item)
            while self._leader and not item.done:
                self._group.wait()
            if not item.done:
                self._leader = True
                batch, self._queue = self._queue, []
            else:
                batch = []
        if batch:
            try:
                self._run_batch(batch)
            finally:
                with self._group:
                    self._leader = False
                    self._group.notify_all()
        if item.error is not None:
            raise item.error
        return item.result

    def _run_batch(self, batch: List["_Work"]) -> None:
        try:
            with self.write() as conn:
                for item in batch:
                    conn.execute("SAVEPOINT work")
                    try:
                        item.result = item.work(conn)
                    except Exception as exc:  # this piece fails alone
                        if not conn.in_transaction:  # SQLite rolled all back (SQLITE_FULL)
                            raise
                        conn.execute("ROLLBACK TO work")
                        item.error = exc
                    conn.execute("RELEASE work")
        except BaseException as exc:  # the commit failed: nothing of the batch is stored
            for item in batch:
                if item.error is None:
                    item.error = (
                        exc
                        if isinstance(exc, Exception)
                        else sqlite3.OperationalError("interrupted")
                    )
                    item.result = None
            if not isinstance(exc, Exception):
                raise
        finally:
            for item in batch:
                item.done = True

    def query(self, sql: str, params: Sequence[Any] = ()) -> List[sqlite3.Row]:
        return self._conn().execute(sql, params).fetchall()

    def query_row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row:
        """The first row of a query that always has one (a count, a row just written)."""
        row = self.query_one(sql, params)
        assert row is not None, sql
        return row

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Optional[sqlite3.Row]:
        return self._conn().execute(sql, params).fetchone()

    def close_thread(self) -> None:
        """Close the calling thread's connection (server threads call this when they end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            with self._conns_lock:
                if conn in self._all:
                    self._all.remove(conn)
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def close(self) -> None:
        with self._conns_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    # -- meta and projects ---------------------------------------------------------------------
    def get_meta(self, key: str) -> Optional[str]:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as c:
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def ensure_project(self, slug: str, name: str, public_key: str) -> sqlite3.Row:
        with self.write() as c:
            c.execute(
                "INSERT OR IGNORE INTO projects(slug, name, public_key, date_created) "
                "VALUES (?, ?, ?, ?)",
                (slug, name, public_key, now_iso()),
            )
        return self.query_row("SELECT * FROM projects WHERE slug = ?", (slug,))

    def projects(self) -> List[sqlite3.Row]:
        return self.query("SELECT * FROM projects ORDER BY id")

    def project(self, slug_or_id: Any) -> Optional[sqlite3.Row]:
        """A project by id or slug (cached: projects do not change while serving)."""
        text = str(slug_or_id)
        cached = self._projects.get(text)
        if cached is not None:
            return cached
        row = self._project(text)
        if row is not None:
            self._projects[text] = row
        return row

    def _project(self, text: str) -> Optional[sqlite3.Row]:
        if text.isdigit():
            row = self.query_one("SELECT * FROM projects WHERE id = ?", (int(text),))
            if row:
                return row
        return self.query_one("SELECT * FROM projects WHERE slug = ?", (text,))

    # -- events --------------------------------------------------------------------------------
    def insert_event(
        self,
        project_id: int,
        event: Dict[str, Any],
        summary: Dict[str, Any],
        attachments: Iterable[Dict[str, Any]] = (),
        release_valid: bool = True,
        client_reports: Iterable[Dict[str, Any]] = (),
    ) -> bool:
        """Store one event, its attachments and the envelope's client reports atomically;
        returns once committed. False if the event was already stored (the reports are kept
        anyway). Concurrent calls share one transaction (group commit)."""
        payload = _event_json(event)
        attachments = list(attachments)
        client_reports = list(client_reports)

        key = GroupKey.of(event)  # computed before taking the write lock

        def work(c: sqlite3.Connection) -> Tuple[bool, Optional[Tuple[Any, int]], Any]:
            self._insert_reports(c, project_id, client_reports)
            if c.execute(
                "SELECT 1 FROM events WHERE event_id = ?", (summary["event_id"],)
            ).fetchone():
                return False, None, None
            pair = (summary.get("release"), project_id)
            new_pair = None
            release_id: Optional[int] = None
            if pair[0] and release_valid:
                release_id = self._release_ids.get(pair[0])
                if pair not in self._known_releases or release_id is None:
                    release_id = self._ensure_release(c, summary["release"])
                    c.execute(
                        "INSERT OR IGNORE INTO release_projects(release_id, project_id) "
                        "VALUES (?, ?)",
                        (release_id, project_id),
                    )
                    new_pair = pair
            group_id = issues.assign_group(c, project_id, key, summary, release_id)
            c.execute(
                "INSERT INTO events(event_id, project_id, received, timestamp, level, "
                "platform, release, environment, dist, title, message, exception_type, "
                "exception_value, culprit, group_id, payload) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    summary["event_id"],
                    project_id,
                    now_iso(),
                    summary.get("timestamp"),
                    summary.get("level"),
                    summary.get("platform"),
                    summary.get("release"),
                    summary.get("environment"),
                    summary.get("dist"),
                    summary.get("title"),
                    summary.get("message"),
                    summary.get("exception_type"),
                    summary.get("exception_value"),
                    summary.get("culprit"),
                    group_id,
                    payload,
                ),
            )
            for att in attachments:
                c.execute(
                    "INSERT INTO attachments(event_id, filename, content_type, "
                    "attachment_type, size, data) VALUES (?,?,?,?,?,?)",
                    (
                        summary["event_id"],
                        att.get("filename"),
                        att.get("content_type"),
                        att.get("attachment_type"),
                        len(att["data"]),
                        att["data"],
                    ),
                )
            return True, new_pair, release_id

        inserted, new_pair, release_id = self.group_write(work)
        if new_pair is not None:  # remembered only once committed
            self._known_releases.add(new_pair)
            self._release_ids[new_pair[0]] = release_id
        return inserted

    @staticmethod
    def _insert_reports(
        c: sqlite3.Connection, project_id: int, reports: Iterable[Dict[str, Any]]
    ) -> None:
        for report in reports:
            c.execute(
                "INSERT INTO client_reports(project_id, received, payload) VALUES (?,?,?)",
                (project_id, now_iso(), json.dumps(report, default=str)),
            )

    def insert_client_reports(self, project_id: int, reports: Sequence[Dict[str, Any]]) -> None:
        with self.write() as c:
            self._insert_reports(c, project_id, reports)

    def client_reports(self, project_id: int) -> List[Dict[str, Any]]:
        return [
            json.loads(r["payload"])
            for r in self.query(
                "SELECT payload FROM client_reports WHERE project_id = ? ORDER BY id", (project_id,)
            )
        ]

    def events(
        self,
        project_id: int,
        *,
        release: Optional[str] = None,
        environment: Optional[str] = None,
        limit: int = 100,
        offset: int = 0,
    ) -> List[sqlite3.Row]:
        sql = "SELECT * FROM events WHERE project_id = ?"
        params: List[Any] = [project_id]
        if release is not None:
            sql += " AND release = ?"
            params.append(release)
        if environment is not None:
            sql += " AND environment = ?"
            params.append(environment)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        return self.query(sql, params)

    def event(self, event_id: str, project_id: Optional[int] = None) -> Optional[sqlite3.Row]:
        row = self.query_one(
            "SELECT * FROM events WHERE event_id = ?", (event_id.replace("-", "").lower(),)
        )
        if row is None or (project_id is not None and row["project_id"] != project_id):
            return None
        return row

    def attachments(self, event_id: str) -> List[sqlite3.Row]:
        return self.query(
            "SELECT id, filename, content_type, attachment_type, size "
            "FROM attachments WHERE event_id = ? ORDER BY id",
            (event_id,),
        )

    def event_counts(self, release: str) -> List[sqlite3.Row]:
        """(environment, count, last) rows of one release's events."""
        return self.query(
            "SELECT environment, COUNT(*) AS count, MAX(received) AS last "
            "FROM events WHERE release = ? GROUP BY environment "
            "ORDER BY environment",
            (release,),
        )

    def count_events_without_release(self) -> int:
        row = self.query_one("SELECT COUNT(*) AS n FROM events WHERE release IS NULL")
        return int(row["n"]) if row else 0

    def event_counts_by_release(self) -> List[sqlite3.Row]:
        """(release, environment, n) rows over all events."""
        return self.query(
            "SELECT release, environment, COUNT(*) AS n FROM events "
            "GROUP BY release, environment ORDER BY release, environment"
        )

    def count_events(self) -> int:
        return int(self.query_row("SELECT COUNT(*) AS n FROM events")["n"])

    # -- sessions ------------------------------------------------------------------------------
    def insert_sessions(
        self,
        project_id: int,
        updates: Sequence[Dict[str, Any]],
        counts: Sequence[Dict[str, Any]],
        rejected: Sequence[Tuple[str, str]],
    ) -> None:
        """Store session updates, aggregate counts and the reasons items were rejected, in
        one transaction (see ``db.sessions``); the releases they name are created."""
        versions = {u["release"] for u in updates} | {c["release"] for c in counts}

        def work(c: sqlite3.Connection) -> None:
            for version in versions:
                release_id = self._ensure_release(c, version)
                c.execute(
                    "INSERT OR IGNORE INTO release_projects(release_id, project_id) VALUES (?, ?)",
                    (release_id, project_id),
                )
            sessions.store(c, project_id, updates, counts, rejected)

        self.group_write(work)

    # -- releases ------------------------------------------------------------------------------
    @staticmethod
    def _ensure_release(c: sqlite3.Connection, version: str) -> int:
        c.execute(
            "INSERT OR IGNORE INTO releases(version, date_created) VALUES (?, ?)",
            (version, now_iso()),
        )
        return c.execute("SELECT id FROM releases WHERE version = ?", (version,)).fetchone()[0]

    def release(self, version: str) -> Optional[sqlite3.Row]:
        return self.query_one("SELECT * FROM releases WHERE version = ?", (version,))

    def releases(
        self,
        project_id: Optional[int] = None,
        query: Optional[str] = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> List[sqlite3.Row]:
        sql = "SELECT r.* FROM releases r"
        params: List[Any] = []
        where = []
        if project_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM release_projects p WHERE p.release_id = r.id "
                "AND p.project_id = ?)"
            )
            params.append(project_id)
        if query:
            where.append("instr(r.version, ?) > 0")
            params.append(query)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY r.date_created DESC, r.id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        return self.query(sql, params)

    def count_releases(self) -> int:
        return int(self.query_row("SELECT COUNT(*) AS n FROM releases")["n"])

    def count_release_events(self, project_id: int, release: str) -> int:
        return int(
            self.query_row(
                "SELECT COUNT(*) AS n FROM events WHERE project_id = ? AND release = ?",
                (project_id, release),
            )["n"]
        )

    def upsert_release(
        self, version: str, project_ids: Sequence[int], fields: Dict[str, Any]
    ) -> Tuple[sqlite3.Row, bool]:
        """Create the release (True) or update the given fields of an existing one (False)."""
        with self.write() as c:
            row = c.execute("SELECT * FROM releases WHERE version = ?", (version,)).fetchone()
            created = row is None
            if created:
                c.execute(
                    "INSERT INTO releases(version, date_created) VALUES (?, ?)",
                    (version, fields.pop("date_created", None) or now_iso()),
                )
            self._update_release(c, version, fields)
            release_id = c.execute(
                "SELECT id FROM releases WHERE version = ?", (version,)
            ).fetchone()[0]
            for pid in project_ids:
                c.execute(
                    "INSERT OR IGNORE INTO release_projects(release_id, project_id) VALUES (?, ?)",
                    (release_id, pid),
                )
        row = self.release(version)
        assert row is not None
        return row, created

    @staticmethod
    def _update_release(c: sqlite3.Connection, version: str, fields: Dict[str, Any]) -> None:
        allowed = ("url", "ref", "status", "date_started", "date_released")
        sets = [(k, v) for k, v in fields.items() if k in allowed]
        if sets:
            c.execute(
                "UPDATE releases SET "
                + ", ".join(f"{k} = ?" for k, _ in sets)
                + " WHERE version = ?",
                [v for _, v in sets] + [version],
            )

    def update_release(self, version: str, fields: Dict[str, Any]) -> None:
        with self.write() as c:
            self._update_release(c, version, fields)

    def delete_release(self, version: str) -> bool:
        self._known_releases = {p for p in self._known_releases if p[0] != version}
        self._release_ids.pop(version, None)
        with self.write() as c:
            deleted = c.execute("DELETE FROM releases WHERE version = ?", (version,)).rowcount > 0
        self.artifacts_generation += 1  # its files went with it
        return deleted

    def release_projects(self, release_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT p.* FROM projects p JOIN release_projects rp "
            "ON rp.project_id = p.id WHERE rp.release_id = ? ORDER BY p.id",
            (release_id,),
        )

    # -- repositories and commits --------------------------------------------------------------
    @staticmethod
    def _ensure_repo(c: sqlite3.Connection, name: str) -> int:
        c.execute(
            "INSERT OR IGNORE INTO repos(name, provider, date_created) VALUES (?, ?, ?)",
            (name, "integrations:local", now_iso()),
        )
        return c.execute("SELECT id FROM repos WHERE name = ?", (name,)).fetchone()[0]

    def add_repo(self, name: str, url: Optional[str]) -> Tuple[sqlite3.Row, bool]:
        with self.write() as c:
            created = c.execute("SELECT 1 FROM repos WHERE name = ?", (name,)).fetchone() is None
            self._ensure_repo(c, name)
            if url:
                c.execute("UPDATE repos SET url = ? WHERE name = ?", (url, name))
        return self.query_row("SELECT * FROM repos WHERE name = ?", (name,)), created

    def repos(self) -> List[sqlite3.Row]:
        return self.query("SELECT * FROM repos ORDER BY id")

    @staticmethod
    def _ensure_commit(c: sqlite3.Connection, repo_id: int, commit: Dict[str, Any]) -> int:
        key = commit["id"]
        row = c.execute(
            "SELECT id FROM commits WHERE repo_id = ? AND key = ?", (repo_id, key)
        ).fetchone()
        values = {
            k: commit.get(k)
            for k in ("message", "author_name", "author_email", "timestamp")
            if commit.get(k) is not None
        }
        if row is None:
            cur = c.execute(
                "INSERT INTO commits(repo_id, key, message, author_name, author_email, timestamp)"
                " VALUES (?,?,?,?,?,?)",
                (
                    repo_id,
                    key,
                    values.get("message"),
                    values.get("author_name"),
                    values.get("author_email"),
                    values.get("timestamp"),
                ),
            )
            assert cur.lastrowid is not None
            commit_id = cur.lastrowid
        else:
            commit_id = row[0]
            if values:
                c.execute(
                    "UPDATE commits SET " + ", ".join(f"{k} = ?" for k in values) + " WHERE id = ?",
                    list(values.values()) + [commit_id],
                )
        patch_set = commit.get("patch_set")
        if patch_set is not None:
            c.execute("DELETE FROM commit_files WHERE commit_id = ?", (commit_id,))
            for entry in patch_set:
                c.execute(
                    "INSERT OR REPLACE INTO commit_files(commit_id, path, type) VALUES (?,?,?)",
                    (commit_id, entry["path"], entry["type"]),
                )
        return commit_id

    def set_release_commits(self, version: str, commits: Sequence[Dict[str, Any]]) -> int:
        """Replace the release's commits (newest first, as clients send them)."""
        with self.write() as c:
            release_id = self._ensure_release(c, version)
            c.execute("DELETE FROM release_commits WHERE release_id = ?", (release_id,))
            for ord_, commit in enumerate(commits):
                repo_id = self._ensure_repo(c, commit.get("repository") or "local")
                commit_id = self._ensure_commit(c, repo_id, commit)
                c.execute(
                    "INSERT OR IGNORE INTO release_commits(release_id, commit_id, ord) "
                    "VALUES (?,?,?)",
                    (release_id, commit_id, ord_),
                )
            issues.apply_commit_refs(c, release_id)
        return len(commits)

    def set_release_refs(self, version: str, refs: Sequence[Dict[str, Any]]) -> None:
        """Record the head commit (and previous commit) per repository of a release.

        Without a VCS integration the collector cannot list the commits between the two, so it
        associates the head commit itself (and remembers the range for later)."""
        with self.write() as c:
            release_id = self._ensure_release(c, version)
            c.execute("DELETE FROM release_heads WHERE release_id = ?", (release_id,))
            c.execute("DELETE FROM release_commits WHERE release_id = ?", (release_id,))
            for ord_, ref in enumerate(refs):
                repo_id = self._ensure_repo(c, ref["repository"])
                c.execute(
                    "INSERT OR REPLACE INTO release_heads(release_id, repo_id, commit_key,"
                    " previous_commit) VALUES (?,?,?,?)",
                    (release_id, repo_id, ref["commit"], ref.get("previousCommit")),
                )
                commit_id = self._ensure_commit(c, repo_id, {"id": ref["commit"]})
                c.execute(
                    "INSERT OR IGNORE INTO release_commits(release_id, commit_id, ord) "
                    "VALUES (?,?,?)",
                    (release_id, commit_id, ord_),
                )

    def release_commits(self, release_id: int) -> List[Dict[str, Any]]:
        rows = self.query(
            "SELECT c.*, r.name AS repo_name FROM release_commits rc "
            "JOIN commits c ON c.id = rc.commit_id JOIN repos r ON r.id = c.repo_id "
            "WHERE rc.release_id = ? ORDER BY rc.ord",
            (release_id,),
        )
        out = []
        for row in rows:
            files = self.query(
                "SELECT path, type FROM commit_files WHERE commit_id = ? ORDER BY path",
                (row["id"],),
            )
            item = dict(row)
            item["files"] = [dict(f) for f in files]
            out.append(item)
        return out

    def release_heads(self, release_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT h.*, r.name AS repo_name FROM release_heads h "
            "JOIN repos r ON r.id = h.repo_id WHERE h.release_id = ?",
            (release_id,),
        )

    def previous_release_with_commits(self, release: sqlite3.Row) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT r.* FROM releases r WHERE (r.date_created < ? OR "
            "(r.date_created = ? AND r.id < ?)) AND EXISTS (SELECT 1 FROM release_commits rc "
            "WHERE rc.release_id = r.id) ORDER BY r.date_created DESC, r.id DESC LIMIT 1",
            (release["date_created"], release["date_created"], release["id"]),
        )

    def last_commit(self, release_id: int) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT c.*, r.name AS repo_name FROM release_commits rc JOIN commits c "
            "ON c.id = rc.commit_id JOIN repos r ON r.id = c.repo_id WHERE rc.release_id = ? "
            "ORDER BY rc.ord LIMIT 1",
            (release_id,),
        )

    def commit_count(self, release_id: int) -> int:
        return self.query_row(
            "SELECT COUNT(*) AS n FROM release_commits WHERE release_id = ?", (release_id,)
        )["n"]

    # -- deploys -------------------------------------------------------------------------------
    def add_deploy(self, version: str, deploy: Dict[str, Any]) -> sqlite3.Row:
        with self.write() as c:
            release_id = self._ensure_release(c, version)
            cur = c.execute(
                "INSERT INTO deploys(release_id, environment, name, url, date_started, "
                "date_finished) VALUES (?,?,?,?,?,?)",
                (
                    release_id,
                    deploy["environment"],
                    deploy.get("name"),
                    deploy.get("url"),
                    deploy.get("date_started"),
                    deploy.get("date_finished") or now_iso(),
                ),
            )
            deploy_id = cur.lastrowid
        return self.query_row("SELECT * FROM deploys WHERE id = ?", (deploy_id,))

    def deploys(self, release_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT * FROM deploys WHERE release_id = ? ORDER BY id DESC", (release_id,)
        )

    # -- chunks, bundles, artifacts, debug files ---------------------------------------------
    def put_chunks(self, chunks: Sequence[Tuple[str, bytes]]) -> None:
        with self.write() as c:
            for sha1, data in chunks:
                c.execute(
                    "INSERT OR IGNORE INTO chunks(sha1, size, data) VALUES (?,?,?)",
                    (sha1, len(data), data),
                )

    def missing_chunks(self, checksums: Sequence[str]) -> List[str]:
        missing = []
        for sha1 in checksums:
            if not self.query_one("SELECT 1 FROM chunks WHERE sha1 = ?", (sha1,)):
                if sha1 not in missing:
                    missing.append(sha1)
        return missing

    def delete_chunks(self, checksums: Sequence[str]) -> None:
        """Drop chunks once the file they made up is stored."""
        with self.write() as c:
            c.executemany("DELETE FROM chunks WHERE sha1 = ?", [(s,) for s in set(checksums)])

    def chunk(self, sha1: str) -> Optional[bytes]:
        row = self.query_one("SELECT data FROM chunks WHERE sha1 = ?", (sha1,))
        return bytes(row["data"]) if row else None

    def bundle(self, checksum: str) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT id, checksum, bundle_id, release, dist, projects, "
            "file_count, size, date_added FROM bundles WHERE checksum = ?",
            (checksum,),
        )

    def add_bundle(
        self, checksum: str, data: bytes, meta: Dict[str, Any], files: Sequence[Dict[str, Any]]
    ) -> bool:
        """Store a bundle and its files in one transaction; False if the checksum is known."""
        with self.write() as c:
            if c.execute("SELECT 1 FROM bundles WHERE checksum = ?", (checksum,)).fetchone():
                return False
            release_id = self._ensure_release(c, meta["release"]) if meta.get("release") else None
            cur = c.execute(
                "INSERT INTO bundles(checksum, bundle_id, release, dist, projects, file_count, "
                "size, date_added, data) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    checksum,
                    meta.get("bundle_id"),
                    meta.get("release"),
                    meta.get("dist"),
                    json.dumps(meta.get("projects") or []),
                    len(files),
                    len(data),
                    now_iso(),
                    data,
                ),
            )
            bundle_id = cur.lastrowid
            for f in files:
                self._insert_artifact(
                    c,
                    dict(
                        f,
                        bundle_id=bundle_id,
                        release_id=release_id,
                        release=meta.get("release"),
                        dist=meta.get("dist"),
                    ),
                )
        self.artifacts_generation += 1
        return True

    @staticmethod
    def _insert_artifact(c: sqlite3.Connection, f: Dict[str, Any]) -> int:
        import hashlib

        data = f["data"]
        cur = c.execute(
            "INSERT INTO artifacts(bundle_id, release_id, release, dist, name, type, debug_id, "
            "headers, sha1, size, date_added, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                f.get("bundle_id"),
                f.get("release_id"),
                f.get("release"),
                f.get("dist"),
                f["name"],
                f.get("type"),
                f.get("debug_id"),
                json.dumps(f.get("headers") or {}),
                hashlib.sha1(data).hexdigest(),
                len(data),
                now_iso(),
                data,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def add_release_file(
        self, version: str, name: str, data: bytes, dist: Optional[str], headers: Dict[str, str]
    ) -> Optional[sqlite3.Row]:
        """A legacy release file; None when the release already has a file of that name."""
        with self.write() as c:
            release_id = self._ensure_release(c, version)
            exists = c.execute(
                "SELECT 1 FROM artifacts WHERE release_id = ? AND name = ? AND "
                "bundle_id IS NULL AND dist IS ?",
                (release_id, name, dist),
            )
            if exists.fetchone():
                return None
            artifact_id = self._insert_artifact(
                c,
                {
                    "release_id": release_id,
                    "release": version,
                    "dist": dist,
                    "name": name,
                    "type": None,
                    "headers": headers,
                    "data": data,
                    "debug_id": headers.get("debug-id"),
                },
            )
        self.artifacts_generation += 1
        return self.artifact(artifact_id)

    def artifact(self, artifact_id: int) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, "
            "headers, sha1, size, date_added FROM artifacts WHERE id = ?",
            (artifact_id,),
        )

    def artifact_data(self, artifact_id: int) -> Optional[bytes]:
        row = self.query_one("SELECT data FROM artifacts WHERE id = ?", (artifact_id,))
        return bytes(row["data"]) if row else None

    def release_artifacts(self, version: str) -> List[sqlite3.Row]:
        """Files of a release: legacy release files and the files of its bundles."""
        return self.query(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, headers, "
            "sha1, size, date_added FROM artifacts WHERE release = ? "
            "ORDER BY name, id",
            (version,),
        )

    def bundle_artifacts(self, bundle_id: int) -> List[sqlite3.Row]:
        """The files of one uploaded bundle."""
        return self.query(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, headers, "
            "sha1, size, date_added FROM artifacts WHERE bundle_id = ? ORDER BY name, id",
            (bundle_id,),
        )

    def artifacts_by_debug_id(self, debug_id: str) -> List[sqlite3.Row]:
        return self.query(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, headers, "
            "sha1, size, date_added FROM artifacts WHERE debug_id = ? ORDER BY id",
            (debug_id.lower(),),
        )

    def bundles(self, release: Optional[str] = None) -> List[sqlite3.Row]:
        sql = (
            "SELECT id, checksum, bundle_id, release, dist, projects, file_count, size, "
            "date_added FROM bundles"
        )
        if release is not None:
            return self.query(sql + " WHERE release = ? ORDER BY id", (release,))
        return self.query(sql + " ORDER BY id")

    def debug_file(self, project_id: int, checksum: str) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT id, project_id, checksum, name, debug_id, code_id, "
            "object_name, cpu_name, kind, size, date_added FROM debug_files "
            "WHERE project_id = ? AND checksum = ?",
            (project_id, checksum),
        )

    def add_debug_file(
        self, project_id: int, checksum: str, data: bytes, info: Dict[str, Any]
    ) -> sqlite3.Row:
        with self.write() as c:
            c.execute(
                "INSERT OR IGNORE INTO debug_files(project_id, checksum, name, debug_id, "
                "code_id, object_name, cpu_name, kind, size, date_added, data) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    project_id,
                    checksum,
                    info["name"],
                    info.get("debug_id"),
                    info.get("code_id"),
                    info.get("object_name"),
                    info.get("cpu_name"),
                    info.get("kind"),
                    len(data),
                    now_iso(),
                    data,
                ),
            )
        self.artifacts_generation += 1
        row = self.debug_file(project_id, checksum)
        assert row is not None
        return row

    def debug_files_by_debug_id(self, project_id: int, debug_id: str) -> List[sqlite3.Row]:
        """The project's debug files with this debug ID, newest last."""
        return self.query(
            "SELECT id, project_id, checksum, name, debug_id, code_id, "
            "object_name, cpu_name, kind, size, date_added FROM debug_files "
            "WHERE project_id = ? AND lower(debug_id) = ? ORDER BY id",
            (project_id, debug_id.lower()),
        )

    def debug_file_data(self, file_id: int) -> Optional[bytes]:
        row = self.query_one("SELECT data FROM debug_files WHERE id = ?", (file_id,))
        return bytes(row["data"]) if row else None

    def debug_files(self, project_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT id, project_id, checksum, name, debug_id, code_id, "
            "object_name, cpu_name, kind, size, date_added FROM debug_files "
            "WHERE project_id = ? ORDER BY id",
            (project_id,),
        )


class _Work:
    """One caller's piece of a group commit."""

    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        self.work = work
        self.done = False
        self.result: Any = None
        self.error: Optional[BaseException] = None


def new_key() -> str:
    """A random 32-hex-digit key (DSN public key, event ids)."""
    return uuid.uuid4().hex
