"""Every query the home page, the issue stream (each filter and sort), an issue page, a
release page, /releases/ and /events/ run reads its big tables (events, groups) through an
index: EXPLAIN QUERY PLAN of each shows no full scan of them."""

from __future__ import annotations

import re
from typing import List

from bench.bench_pages import render
from bench.page_data import PAGES, build
from releasetag.collector.app import make_app

FULL_SCAN = re.compile(r"^SCAN (events|groups|\w)\b(?!.*INDEX)")


def test_every_query_of_the_pages_uses_an_index(tmp_path):
    store = build(str(tmp_path / "c.db"), events=3000, issues=200, releases=20)
    app = make_app(store, "local", "t" * 32)
    seen: List[str] = []
    conn = store._conn()  # the pages render in this thread, on this connection
    conn.set_trace_callback(seen.append)
    for path in PAGES:
        assert render(app, path) == 200, path
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
