"""A WSGI app for killed-worker tests: /orders/<id> writes the worker's pid to ``$APP_STATE/blocked``
and waits (up to 30 s) until the test kills the worker; /crash segfaults (a null pointer
through ctypes); anything else answers 200."""

import ctypes
import os
import time

import releasetag
from releasetag.integrations.wsgi import ReleasetagMiddleware

releasetag.init(
    os.environ["APP_DSN"],
    release=os.environ.get("APP_RELEASE", "shop@2.0"),
    spool_dir=os.environ["APP_SPOOL"],
    session_flush_interval=0.5,
)


def read_null():
    return ctypes.string_at(0)


def _app(environ, start_response):
    if environ["PATH_INFO"].startswith("/orders/"):
        with open(os.path.join(os.environ["APP_STATE"], "blocked"), "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(30)  # the test kills this worker meanwhile
    if environ["PATH_INFO"] == "/crash":
        read_null()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]


app = ReleasetagMiddleware(_app)
