"""The store's listings run a bounded number of statements, and its release cache never
outlives a delete."""

from __future__ import annotations

import io
import sqlite3
import sys
import threading
import uuid
from typing import Any, Dict, List

import pytest

from releasetag.collector.app import make_app
from releasetag.collector.db.store import Store

pytestmark = pytest.mark.timeout(120)


def _fill(store: Store, releases: int, commits: int) -> int:
    project = store.ensure_project("local", "local", uuid.uuid4().hex)
    for n in range(releases):
        version = f"app@{n}"
        store.upsert_release(version, [project["id"]], {})
        store.set_release_commits(
            version,
            [
                {
                    "id": f"{n:04x}{i:04x}",
                    "repository": "acme/app",
                    "message": f"change {i}",
                    "author_name": "Ann",
                    "author_email": f"ann{i % 3}@example.com",
                    "patch_set": [{"path": f"f{i}.py", "type": "M"}, {"path": "x.py", "type": "A"}],
                }
                for i in range(commits)
            ],
        )
        store.add_deploy(version, {"environment": "production"})
        store.insert_event(
            project["id"],
            {"message": "boom", "release": version},
            {"event_id": uuid.uuid4().hex, "release": version, "title": "boom"},
        )
    return project["id"]


def _statements(store: Store, app: Any, path: str) -> int:
    """How many SQL statements one GET of ``path`` runs."""
    seen: List[str] = []
    conn = store._conn()  # the thread's connection: the app runs in this thread
    conn.set_trace_callback(seen.append)
    try:
        status: Dict[str, str] = {}

        def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
            status["line"] = line

        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "9000",
            "HTTP_HOST": "127.0.0.1:9000",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": "Bearer tok",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": io.StringIO(),
            "CONTENT_LENGTH": "0",
        }
        b"".join(app(environ, start_response))
        assert status["line"].startswith("200"), status
    finally:
        conn.set_trace_callback(None)
    return len(seen)


@pytest.mark.parametrize(
    "path, sizes",
    [
        ("/api/0/organizations/local/releases/", (5, 200)),
        ("/releases/app@0/", (5, 200)),
        ("/", (25, 200)),  # the home page shows 20 releases a page: compare full pages
    ],
)
def test_listing_and_release_page_statements_do_not_grow_with_releases_or_commits(
    tmp_path, path, sizes
):
    counts = []
    for size in sizes:
        store = Store(str(tmp_path / f"{size}.sqlite3"))
        try:
            _fill(store, size, size)
            app = make_app(store, "local", "tok")
            _statements(store, app, path)  # warm the per-process caches (projects)
            counts.append(_statements(store, app, path))
        finally:
            store.close()
    assert counts[0] == counts[1], counts


def test_a_deleted_release_is_never_brought_back_by_the_cache(tmp_path):
    store = Store(str(tmp_path / "db.sqlite3"))
    project = store.ensure_project("local", "local", uuid.uuid4().hex)["id"]
    failures: List[str] = []

    def send() -> None:
        store.insert_event(
            project,
            {"message": "m", "release": "r@1"},
            {"event_id": uuid.uuid4().hex, "release": "r@1", "title": "m"},
        )

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the threads as finely as the interpreter can
    try:
        for _ in range(300):
            threads = [threading.Thread(target=send) for _ in range(2)]
            threads.append(threading.Thread(target=store.delete_release, args=("r@1",)))
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            send()  # an event after the round: its release exists, with its project
            row = store.release("r@1")
            if row is None or [p["id"] for p in store.release_projects(row["id"])] != [project]:
                failures.append("the release of a new event is missing")
        assert failures == []
    finally:
        sys.setswitchinterval(switch)
        store.close()


def test_a_failed_transaction_caches_nothing(tmp_path):
    store = Store(str(tmp_path / "db.sqlite3"))
    try:
        project = store.ensure_project("local", "local", uuid.uuid4().hex)["id"]
        with pytest.raises(sqlite3.Error):
            store.insert_event(
                project,
                {"message": "m", "release": "r@2"},
                {"event_id": None, "release": "r@2", "title": "m"},  # NOT NULL fails
            )
        assert store.release("r@2") is None
        store.insert_event(
            project,
            {"message": "m", "release": "r@2"},
            {"event_id": uuid.uuid4().hex, "release": "r@2", "title": "m"},
        )
        assert store.release("r@2") is not None
    finally:
        store.close()
