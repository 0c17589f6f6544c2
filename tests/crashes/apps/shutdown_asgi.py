"""A plain ASGI app under releasetag's middleware: every request captures a message, /boom
raises (a crashed session), /slow takes a second, so requests are in flight when the server is
told to stop."""

import asyncio
import os

import releasetag
from releasetag.integrations.asgi import ReleasetagAsgiMiddleware

releasetag.init(os.environ["APP_DSN"], release="api@2.0", environment="staging")


async def _app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    if scope["path"] == "/slow":
        await asyncio.sleep(1.0)
    if scope["path"] == "/boom":
        raise RuntimeError("boom")
    releasetag.capture_message(f"served {scope['path']}")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


app = ReleasetagAsgiMiddleware(_app)
