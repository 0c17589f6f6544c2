"""Every query the home page, the issue stream (each filter and sort), an issue page, a
release page, /releases/, /events/ and the issues API (each sort, with filters) run reads its
big tables (events, groups, the per-issue counts) through an index: EXPLAIN QUERY PLAN of
each shows no full scan of them."""

from __future__ import annotations

import io
import re
from typing import List

from bench.bench_pages import render
from bench.page_data import PAGES, build
from releasetag.collector.app import make_app

FULL_SCAN = re.compile(r"^SCAN (events|groups|group_\w+|\w)\b(?!.*INDEX)")
API = "/api/0/projects/local/shop/issues/?limit=25&sort="
API_PATHS = [
    API + "user",
    API + "freq&query=is:unresolved%20release:shop@1.5&environment=production",
    API + "new",
    API + "date",
]


def _api(app, path: str) -> int:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path.split("?")[0],
        "QUERY_STRING": path.partition("?")[2],
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": "Bearer " + "t" * 32,
    }
    status: List[str] = []
    b"".join(app(env, lambda s, h: status.append(s)))
    return int(status[0].split()[0])


def test_every_query_of_the_pages_uses_an_index(tmp_path):
    store = build(str(tmp_path / "c.db"), events=3000, issues=200, releases=20)
    app = make_app(store, "local", "t" * 32)
    seen: List[str] = []
    conn = store._conn()  # the pages render in this thread, on this connection
    conn.set_trace_callback(seen.append)
    for path in PAGES:
        assert render(app, path) == 200, path
    for path in API_PATHS:
        assert _api(app, path) == 200, path
    conn.set_trace_callback(None)
    selects = {s for s in seen if s.lstrip().upper().startswith("SELECT")}
    assert len(selects) > 20  # the trace saw the pages' queries
    scans = []
    for sql in sorted(selects):
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
            detail = row[3]
            if FULL_SCAN.search(detail) and "projects" not in sql.split("WHERE")[0]:
                scans.append(f"{detail}: {sql[:160]}")
    assert scans == [], "\n".join(scans)
    store.close()
