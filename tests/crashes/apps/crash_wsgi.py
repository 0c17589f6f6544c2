"""A WSGI app whose /crash request segfaults the worker (a null pointer through ctypes) and
whose /slow request takes a second."""

import ctypes
import os
import time

import releasetag
from releasetag.integrations.wsgi import ReleasetagMiddleware

releasetag.init(
    os.environ["APP_DSN"],
    release=os.environ.get("APP_RELEASE", "shop@1.0"),
    spool_dir=os.environ["APP_SPOOL"],
)


def read_null():
    return ctypes.string_at(0)


def _app(environ, start_response):
    if environ["PATH_INFO"] == "/crash":
        read_null()
    if environ["PATH_INFO"] == "/slow":
        time.sleep(1.0)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


app = ReleasetagMiddleware(_app)
