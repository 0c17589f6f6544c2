"""FastAPI hello-world for bench/scn_web.py under uvicorn: ``BENCH_WEB_SDK`` is bare,
releasetag or sentry_sdk (each SDK's own automatic FastAPI support, nothing added by hand)."""

from __future__ import annotations

import os

_SDK = os.environ.get("BENCH_WEB_SDK", "bare")
_DSN = os.environ.get("BENCH_DSN", "")
if _SDK == "releasetag":
    import releasetag

    releasetag.init(_DSN, release="bench@1.0", environment="bench")
elif _SDK == "sentry_sdk":
    import sentry_sdk

    sentry_sdk.init(_DSN, release="bench@1.0", environment="bench")

from fastapi import FastAPI  # noqa: E402
from fastapi.responses import PlainTextResponse  # noqa: E402

app = FastAPI()


@app.get("/hello", response_class=PlainTextResponse)
async def hello() -> str:
    return "hello"
