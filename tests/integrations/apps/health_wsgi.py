"""One WSGI app under either SDK (``APP_SDK=releasetag`` or ``sentry``), for comparing the
sessions each sends for the same requests (served by gunicorn in the tests).

Paths: ``/ok`` answers, ``/handled`` captures a handled exception and answers, ``/crash``
raises (unhandled), ``/stream`` answers with a generator body.
"""

import os

SDK = os.environ.get("APP_SDK", "releasetag")

if SDK == "sentry":
    import sentry_sdk
    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware as Middleware

    sentry_sdk.init(
        os.environ["APP_DSN"],
        release=os.environ["APP_RELEASE"],
        environment=os.environ["APP_ENVIRONMENT"],
    )
    capture_exception = sentry_sdk.capture_exception
else:
    import releasetag
    from releasetag.integrations.wsgi import ReleasetagMiddleware as Middleware

    releasetag.init(
        os.environ["APP_DSN"],
        release=os.environ["APP_RELEASE"],
        environment=os.environ["APP_ENVIRONMENT"],
    )
    capture_exception = releasetag.capture_exception


def _body():
    yield b"streamed"


def app(environ, start_response):
    path = environ.get("PATH_INFO")
    if path == "/crash":
        raise RuntimeError("unhandled in the request")
    if path == "/handled":
        try:
            int("not a number")
        except ValueError:
            capture_exception()
    start_response("200 OK", [("Content-Type", "text/plain")])
    if path == "/stream":
        return _body()
    return [b"ok"]


application = Middleware(app)
