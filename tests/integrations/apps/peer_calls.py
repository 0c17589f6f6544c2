"""The same small sentry-sdk program run by either SDK (side-by-side tests).

``python -m tests.integrations.apps.peer_calls SDK SCENARIO DSN HTTP_URL [REDIS_URL]`` (HTTP_URL:
a second recording server, the "downstream service"; both SDKs leave the DSN's host alone),
where SDK is
``sentry_sdk`` or ``releasetag`` (the program is the same after the rename) and SCENARIO:

- ``tracing``: an incoming ``sentry-trace`` header is continued, nested spans around errors,
  a ``@trace``-decorated coroutine, and an outgoing ``http.client`` request (to the recording
  server, which keeps its headers) from inside a span;
- ``crumbs``: an HTTP request, a subprocess, redis commands and a pipeline, SQLite queries
  through SQLAlchemy, then one error that carries them all as breadcrumbs.

It prints one JSON line with the ids it saw (spans, headers) for the test to compare.
"""

from __future__ import annotations

import asyncio
import http.client
import importlib
import json
import subprocess
import sys
from urllib.parse import urlsplit

TRACE = "771a43a4192642f0b136d5159a501700"
PARENT = "1234567890abcdef"


def _get(url: str, path: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def tracing(sdk, url: str) -> dict:
    seen: dict = {}
    headers = {"sentry-trace": f"{TRACE}-{PARENT}-1", "baggage": f"sentry-trace_id={TRACE}"}
    transaction = sdk.continue_trace(headers, op="http.server", name="GET /orders")
    with sdk.start_transaction(transaction):
        with sdk.start_span(op="db", description="load orders") as outer:
            with sdk.start_span(op="db.query", description="select") as inner:
                try:
                    raise KeyError("order 7")
                except KeyError:
                    sdk.capture_exception()
                seen["inner"] = [inner.trace_id, inner.span_id, inner.parent_span_id]
            seen["outer"] = [outer.trace_id, outer.span_id]
            seen["traceparent"] = sdk.get_traceparent()
            _get(url, "/downstream/call?x=1")

    @sdk.trace(op="job")
    async def job():
        await asyncio.sleep(0)
        sdk.capture_message("from the coroutine")
        return sdk.get_current_span().span_id

    with sdk.start_transaction(op="task", name="batch") as tx:
        seen["job"] = asyncio.run(job())
        seen["batch"] = [tx.trace_id, tx.span_id]
    return seen


def crumbs(sdk, url: str, redis_url: str) -> dict:
    import redis
    import sqlalchemy as sa

    _get(url, "/plain/call?page=2#top")
    _get(url, "/missing-thing")  # scripted to 404 by the test
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    client = redis.Redis.from_url(redis_url)
    client.set("user:7", "secret-value")
    client.get("user:7")
    pipe = client.pipeline()
    pipe.incr("hits")
    pipe.expire("hits", 60)
    pipe.execute()
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(sa.text("create table t (id integer, name text)"))
        conn.execute(sa.text("insert into t values (:id, :name)"), {"id": 1, "name": "x"})
        conn.execute(sa.text("select name from t where id = :id"), {"id": 1}).fetchall()
        try:
            conn.execute(sa.text("select nope from t"))
        except Exception:
            pass
    try:
        1 / 0
    except ZeroDivisionError:
        sdk.capture_exception()
    return {}


def main() -> None:
    name, scenario, dsn = sys.argv[1:4]
    sdk = importlib.import_module(name)
    options: dict = {"release": "shop@1.0", "environment": "prod"}
    if name == "sentry_sdk" and scenario == "tracing":
        # span ids reach errors in sentry-sdk only with tracing on; releasetag always does it
        options.update(traces_sample_rate=1.0, before_send_transaction=lambda e, h: None)
    sdk.init(dsn, **options)
    url = sys.argv[4]
    seen = tracing(sdk, url) if scenario == "tracing" else crumbs(sdk, url, sys.argv[5])
    sdk.flush(5)
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
