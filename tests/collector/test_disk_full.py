"""A full disk is answered 507 with one log line per condition, not a traceback per request."""

from __future__ import annotations

import io
import logging
import uuid

from releasetag.collector.access import Access
from releasetag.collector.app import make_app
from releasetag.collector.datadir import open_collector
from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope


def _post(app, meta, body: bytes):
    dsn = Dsn.parse(f"http://{meta['public_key']}@127.0.0.1:9000/{meta['project_id']}")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/{meta['project_id']}/envelope/",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:9000",
        "HTTP_X_SENTRY_AUTH": dsn.auth_header(),
        "wsgi.input": io.BytesIO(body),
        "releasetag.local_addr": "127.0.0.1",
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status[:3]), dict(headers)

    b"".join(app(environ, start_response))
    return answer


def test_full_disk_is_507_and_one_log_line(tmp_path, caplog):
    store, meta = open_collector(str(tmp_path / "data"))
    try:
        app = make_app(store, meta["org"], meta["token"], access=Access("127.0.0.1", "t"))
        event = {"event_id": uuid.uuid4().hex, "message": "fits"}
        assert _post(app, meta, event_envelope(event).serialize())["status"] == 200
        # the database may not grow past its size now: SQLite answers "database or disk is full"
        pages = store.query("PRAGMA page_count")[0][0]
        store.query(f"PRAGMA max_page_count = {pages}")
        big = "x" * 200_000
        with caplog.at_level(logging.INFO, logger="releasetag.collector"):
            answers = [
                _post(app, meta, event_envelope({"message": big}).serialize()) for _ in range(5)
            ]
        assert [a["status"] for a in answers] == [507] * 5
        assert answers[0]["headers"]["Retry-After"]
        lines = [r for r in caplog.records if r.name == "releasetag.collector"]
        assert len(lines) == 1 and lines[0].exc_info is None
        assert "disk full" in lines[0].getMessage()
        assert "\n" not in lines[0].getMessage()
        # the data already accepted is still there
        assert store.query("SELECT count(*) FROM events")[0][0] == 1
    finally:
        store.close()
