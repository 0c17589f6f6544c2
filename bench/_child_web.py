"""Child process of bench/scn_web.py: ``python bench/_child_web.py CASE SDK DSN N``.

Cases:
  asgi   N requests through the ASGI middleware, hello-world app called directly by a
         minimal ASGI driver on one event loop (no server); result: ns per request
  init   import fastapi and Django's handlers (as an app would), then time init() once;
         result: ms
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import emit_result  # noqa: E402

SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/hello",
    "raw_path": b"/hello",
    "query_string": b"a=1",
    "root_path": "",
    "headers": [
        (b"host", b"localhost:8000"),
        (b"user-agent", b"bench"),
        (b"accept", b"*/*"),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}
_START = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
_BODY = {"type": "http.response.body", "body": b"hello"}
_REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def hello(scope, receive, send):
    await receive()
    await send(_START)
    await send(_BODY)


def _init(sdk: str, dsn: str) -> None:
    if sdk == "releasetag":
        import releasetag

        releasetag.init(dsn, release="bench@1.0", environment="bench")
    elif sdk == "sentry_sdk":
        import sentry_sdk

        sentry_sdk.init(dsn, release="bench@1.0", environment="bench")


def _asgi(sdk: str, dsn: str, n: int) -> None:
    _init(sdk, dsn)
    app = hello
    if sdk == "releasetag":
        from releasetag.integrations.asgi import ReleasetagAsgiMiddleware

        app = ReleasetagAsgiMiddleware(hello)
    elif sdk == "sentry_sdk":
        from sentry_sdk.integrations.asgi import SentryAsgiMiddleware

        app = SentryAsgiMiddleware(hello)

    async def receive():
        return _REQUEST

    async def send(message):
        return None

    async def loop(count: int) -> float:
        start = time.perf_counter_ns()
        for _ in range(count):
            await app(dict(SCOPE), receive, send)
        return (time.perf_counter_ns() - start) / count

    async def main() -> float:
        await loop(n // 5)  # warm up
        return min([await loop(n) for _ in range(5)])

    emit_result({"time": asyncio.run(main()) / 1000.0})  # us
    os._exit(0)


def _init_time(sdk: str, dsn: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.apps.django_bench")
    import django.core.handlers.asgi  # noqa: F401
    import django.core.handlers.wsgi  # noqa: F401
    import fastapi  # noqa: F401

    start = time.perf_counter()
    _init(sdk, dsn)
    emit_result({"time": (time.perf_counter() - start) * 1000.0})  # ms
    os._exit(0)


if __name__ == "__main__":
    case, sdk, dsn, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    {"asgi": _asgi, "init": lambda s, d, _n: _init_time(s, d)}[case](sdk, dsn, n)
