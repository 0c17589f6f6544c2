"""ASGI apps under either SDK (``APP_SDK=releasetag`` or ``sentry``), served by uvicorn or
hypercorn in the tests: ``fastapi_app``, ``starlette_app`` and ``plain_app`` (no framework,
wrapped in the SDK's ASGI middleware).

Paths (every app): ``/ok``; ``/items/{item_id}`` tags the request, yields to the loop, then
raises; ``/http/{code}`` raises the framework's HTTPException (the plain app answers the
status); ``/stream`` fails after its first chunk; ``/background`` answers, then its background
task raises; ``/logged/{item_id}`` logs an error; ``/unawaited`` starts a task that raises and
is never awaited; ``/body`` (POST) reads a JSON body then raises; websocket ``/ws`` raises after
its first message. ``APP_PII=1`` turns on send_default_pii; ``APP_FAILED=500-599`` sets the
failed statuses.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os

SDK = os.environ.get("APP_SDK", "releasetag")
PII = os.environ.get("APP_PII") == "1"
FAILED = os.environ.get("APP_FAILED")
log = logging.getLogger("shop.api")

_common = dict(
    release=os.environ.get("APP_RELEASE", "shop@4.0.0"),
    environment=os.environ.get("APP_ENVIRONMENT", "production"),
    send_default_pii=PII,
)
if SDK == "sentry":
    import sentry_sdk
    from sentry_sdk.integrations.asgi import SentryAsgiMiddleware as Middleware

    sentry_sdk.init(os.environ["APP_DSN"], **_common)
    set_tag = sentry_sdk.set_tag
else:
    import releasetag
    from releasetag.integrations.asgi import ReleasetagAsgiMiddleware as Middleware

    if FAILED:
        low, high = (int(x) for x in FAILED.split("-"))
        _common["failed_request_status_codes"] = [range(low, high + 1)]
    releasetag.init(os.environ["APP_DSN"], **_common)
    set_tag = releasetag.set_tag

from fastapi import FastAPI, WebSocket  # noqa: E402  (after init, on purpose)
from fastapi import HTTPException as FastHTTPException  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.background import BackgroundTask  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.responses import PlainTextResponse, StreamingResponse  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402

_tasks = []


async def _fail_later(item_id: str) -> None:
    set_tag("item", item_id)
    await asyncio.sleep(0.05)  # other requests run on the loop meanwhile
    raise ValueError(f"item {item_id} failed")


async def _chunks():
    yield b"first "
    raise RuntimeError("failed while streaming")


async def _boom() -> None:
    raise LookupError("nobody awaited this")


def _unawaited() -> None:
    task = asyncio.get_running_loop().create_task(_boom())
    _tasks.append(task)


async def _collect_unawaited() -> None:
    await asyncio.sleep(0.05)
    _tasks.clear()  # the task is garbage now: the loop reports it was never retrieved
    gc.collect()


def _background() -> None:
    raise KeyError("background task failed")


# -- Starlette ---------------------------------------------------------------------------------
async def s_ok(request):
    return PlainTextResponse("hello")


async def s_item(request):
    await _fail_later(request.path_params["item_id"])


async def s_http(request):
    raise HTTPException(status_code=int(request.path_params["code"]))


async def s_stream(request):
    return StreamingResponse(_chunks())


async def s_background(request):
    return PlainTextResponse("queued", background=BackgroundTask(_background))


async def s_logged(request):
    log.error("could not price item %s", request.path_params["item_id"])
    return PlainTextResponse("logged")


async def s_unawaited(request):
    _unawaited()
    await _collect_unawaited()
    return PlainTextResponse("started")


async def s_body(request):
    data = await request.json()
    raise ValueError(f"order for {data.get('sku')} failed")


async def s_ws(websocket):
    await websocket.accept()
    text = await websocket.receive_text()
    raise ConnectionError(f"websocket failed on {text}")


starlette_app = Starlette(
    routes=[
        Route("/ok", s_ok),
        Route("/items/{item_id}", s_item),
        Route("/http/{code:int}", s_http),
        Route("/stream", s_stream),
        Route("/background", s_background),
        Route("/logged/{item_id}", s_logged),
        Route("/unawaited", s_unawaited),
        Route("/body", s_body, methods=["POST"]),
        WebSocketRoute("/ws", s_ws),
    ]
)


# -- FastAPI -----------------------------------------------------------------------------------
def _fastapi():
    api = FastAPI()

    @api.get("/ok")
    async def ok():
        return {"ok": True}

    @api.get("/items/{item_id}")
    async def item(item_id: str):
        await _fail_later(item_id)

    @api.get("/http/{code}")
    async def http(code: int):
        raise FastHTTPException(status_code=code)

    @api.get("/stream")
    async def stream():
        return StreamingResponse(_chunks())

    @api.get("/background")
    async def background():
        return PlainTextResponse("queued", background=BackgroundTask(_background))

    @api.get("/logged/{item_id}")
    async def logged(item_id: str):
        log.error("could not price item %s", item_id)
        return {"logged": item_id}

    @api.get("/unawaited")
    async def unawaited():
        _unawaited()
        await _collect_unawaited()
        return {"started": True}

    @api.post("/body")
    async def body(order: dict):
        raise ValueError(f"order for {order.get('sku')} failed")

    @api.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        text = await websocket.receive_text()
        raise ConnectionError(f"websocket failed on {text}")

    return api


fastapi_app = _fastapi()


# -- plain ASGI --------------------------------------------------------------------------------
async def _plain(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()  # connect
        await send({"type": "websocket.accept"})
        message = await receive()
        raise ConnectionError(f"websocket failed on {message.get('text')}")
    path = scope["path"]
    if path.startswith("/items/"):
        await _fail_later(path.rsplit("/", 1)[-1])
    if path.startswith("/http/"):
        status = int(path.rsplit("/", 1)[-1])
    else:
        status = 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    if path == "/stream":
        await send({"type": "http.response.body", "body": b"first ", "more_body": True})
        raise RuntimeError("failed while streaming")
    await send({"type": "http.response.body", "body": b"hello"})


plain_app = Middleware(_plain)
