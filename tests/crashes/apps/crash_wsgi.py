"""A WSGI app whose /crash request segfaults the worker (a null pointer through ctypes)."""

import ctypes
import os

import releasetag

releasetag.init(
    os.environ["APP_DSN"],
    release=os.environ.get("APP_RELEASE", "shop@1.0"),
    spool_dir=os.environ["APP_SPOOL"],
)


def read_null():
    return ctypes.string_at(0)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/crash":
        read_null()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
