"""The collector's database connection: opening (with migrations), transactions, group
commit and the reads every query module shares.

One database file in WAL mode. Each thread reads through its own connection; writes go through
``write()`` which serializes writers with a lock and commits before returning, so a caller that
answers 200 after ``write()`` has its data on disk as far as a process crash is concerned
(``synchronous=NORMAL`` in WAL mode survives kill -9; only an OS crash can lose the last
transactions).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import schema


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


def new_key() -> str:
    """A random 32-hex-digit key (DSN public key, event ids)."""
    return uuid.uuid4().hex


class Database:
    """An open collector database: connections, transactions and schema upgrade."""

    def __init__(self, path: str, migrations: Sequence[Tuple[int, schema.Step]] = ()) -> None:
        self.path = path
        steps = list(migrations) or schema.MIGRATIONS
        # refuse a database of a newer releasetag before writing anything to it (WAL included)
        schema.check_version(path, steps[-1][0])
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        # bumped whenever artifacts or debug files come or go: resolvers cache lookups by it
        self.artifacts_generation = 0
        self._write_lock = threading.Lock()
        self._all: List[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._group = threading.Condition()
        self._queue: List[_Work] = []
        self._leader = False
        # (release version, project id) -> release id, known to exist with that project, so
        # ingest skips re-creating them; see ``releases.ReleasesQueries.delete_release``
        self._release_ids: Dict[Tuple[str, int], int] = {}
        self._release_cache_lock = threading.Lock()
        self._release_cache_gen = 0
        self._projects: Dict[str, sqlite3.Row] = {}
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        with self._write_lock:
            self.schema_versions = schema.migrate(conn, path, steps)

    def remember_release(self, seen: Tuple[str, int, int], release_id: Optional[int]) -> None:
        """Cache (version, project) -> release id after the transaction that read it has
        committed, unless a release was deleted since that transaction read the cache
        (``seen[2]``, the cache generation): a delete can never be undone by the cache."""
        version, project_id, generation = seen
        with self._release_cache_lock:
            if generation == self._release_cache_gen and release_id is not None:
                self._release_ids[(version, project_id)] = release_id

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


class _Work:
    """One caller's piece of a group commit."""

    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        self.work = work
        self.done = False
        self.result: Any = None
        self.error: Optional[BaseException] = None
