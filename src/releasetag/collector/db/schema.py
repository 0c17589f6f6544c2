"""The collector's schema and its migrations.

The database records the schema version it is at in ``meta`` (``schema_version``, as 0.1.0
wrote it; a new database is at 0). Opening a database runs, in one transaction, every step of
``MIGRATIONS`` above that version, in order, and records the new version; if one step fails
nothing of any step is kept. A database at a version above the newest step was written by a
newer releasetag: it is refused before anything is written to it.

Version 1 is the schema of releasetag 0.1.0, exactly as it wrote it, so a 0.1.0 database needs
no change to it. To change the schema, append a step: never edit a step that was released.
"""

from __future__ import annotations

import os
import pathlib
import sqlite3
from typing import Callable, List, Sequence, Tuple, Union

from releasetag.protocol.errors import ConfigurationError

from . import attachment_index, issue_counts, logs_schema, monitors_schema, page_queries, pipeline
from .source_bundles_schema import V9 as SOURCE_BUNDLES_V9

Step = Union[str, Callable[[sqlite3.Connection], None]]


class SchemaError(ConfigurationError):
    """A database this releasetag cannot use (written by a newer one, or a failed upgrade)."""


# -- version 1: the schema of releasetag 0.1.0 -------------------------------------------------
V1 = """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
CREATE TABLE IF NOT EXISTS chunks (
    sha1 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
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

# -- version 2: the indexes the release listing and pages read through ------------------------
V2 = """
CREATE INDEX IF NOT EXISTS releases_created ON releases(date_created, id);
CREATE INDEX IF NOT EXISTS release_projects_project ON release_projects(project_id, release_id);
CREATE INDEX IF NOT EXISTS release_commits_ord ON release_commits(release_id, ord);
CREATE INDEX IF NOT EXISTS deploys_release ON deploys(release_id);
CREATE INDEX IF NOT EXISTS artifacts_release_id ON artifacts(release_id);
CREATE INDEX IF NOT EXISTS group_regressions_group ON group_regressions(group_id);
CREATE INDEX IF NOT EXISTS deploy_notifications_deploy ON deploy_notifications(deploy_id);
"""

#: (version, step): each step takes the database from the version before it to ``version``
MIGRATIONS: List[Tuple[int, Step]] = [(1, V1), (2, V2)]
MIGRATIONS.append((3, attachment_index.V3))
MIGRATIONS.append((4, logs_schema.migrate_v4))  # logs and trace metrics
MIGRATIONS.append((5, monitors_schema.V5))  # cron monitors (issue 27)
MIGRATIONS.append((6, pipeline.V6))  # releases.pipeline, deploys.rollback_from (db/pipeline.py)
MIGRATIONS.append((7, page_queries.V7))  # the pages' indexes (db/page_queries.py)
MIGRATIONS.append((8, issue_counts.migrate_v8))  # per-issue counts kept at ingest (issue 30)
MIGRATIONS.append((9, SOURCE_BUNDLES_V9))  # source bundles marked (issue 29)
NEWEST = MIGRATIONS[-1][0]


def statements(script: str) -> List[str]:
    """The statements of a script (``executescript`` would commit: steps run in one transaction)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def read_version(conn: sqlite3.Connection) -> int:
    """The schema version of the database (0 when it has no schema yet)."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone():
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        raise SchemaError(f"the database has an unreadable schema version {row[0]!r}") from None


def too_new(path: str, version: int, newest: int = NEWEST) -> SchemaError:
    return SchemaError(
        f"{path} was written by a newer releasetag (schema version {version}; this one reads up "
        f"to {newest}): upgrade releasetag, or use another --data folder"
    )


def check_version(path: str, newest: int = NEWEST) -> int:
    """The version of the database at ``path`` (0 if it does not exist), read without writing
    anything; SchemaError if it is newer than ``newest``."""
    try:
        uri = pathlib.Path(os.path.abspath(path)).as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.OperationalError:
        return 0  # no file yet
    try:
        version = read_version(conn)
    finally:
        conn.close()
    if version > newest:
        raise too_new(path, version, newest)
    return version


def migrate(
    conn: sqlite3.Connection, path: str, steps: Sequence[Tuple[int, Step]] = MIGRATIONS
) -> Tuple[int, int]:
    """Bring the database to the newest version of ``steps`` in one transaction (``conn`` in
    autocommit mode); returns (version before, version after)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = read_version(conn)
        newest = steps[-1][0] if steps else 0
        if before > newest:
            raise too_new(path, before, newest)
        for version, step in steps:
            if version <= before:
                continue
            if callable(step):
                step(conn)
            else:
                for statement in statements(step):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return before, max(before, newest)
