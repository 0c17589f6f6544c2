"""A WSGI app under releasetag's middleware: every request captures a message, /boom raises
(a crashed session), /slow takes a second (requests in flight at the signal)."""

import os
import time

import releasetag
from releasetag.integrations.wsgi import ReleasetagMiddleware

releasetag.init(os.environ["APP_DSN"], release="shop@1.0", spool_dir=os.environ["APP_SPOOL"])


def _app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/slow":
        time.sleep(1.0)
    if path == "/boom":
        raise RuntimeError("boom")
    releasetag.capture_message(f"served {path}")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


app = ReleasetagMiddleware(_app)
