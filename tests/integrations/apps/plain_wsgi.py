"""A plain WSGI app wrapped in ReleasetagMiddleware (served by gunicorn in the tests)."""

import os

import releasetag
from releasetag.integrations.wsgi import ReleasetagMiddleware

releasetag.init(
    os.environ["APP_DSN"],
    release=os.environ["APP_RELEASE"],
    environment=os.environ["APP_ENVIRONMENT"],
)


def _failing_body():
    yield b"first chunk"
    raise RuntimeError("failed while streaming")


def app(environ, start_response):
    releasetag.set_tag("worker_pid", os.getpid())
    path = environ.get("PATH_INFO")
    if path == "/fail":
        raise ValueError("request failed: " + environ.get("QUERY_STRING", ""))
    if path == "/stream-fail":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _failing_body()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


application = ReleasetagMiddleware(app)
