"""Hello-world WSGI app for the gunicorn scenario (bench/scn_gunicorn.py).

``BENCH_WSGI_SDK`` chooses the variant: ``bare`` (the app alone), ``releasetag``
(ReleasetagMiddleware) or ``sentry_sdk`` (SentryWsgiMiddleware); ``BENCH_DSN`` is the
recording server's DSN. Each gunicorn worker imports this module, so each worker inits.
"""

from __future__ import annotations

import os


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


_SDK = os.environ.get("BENCH_WSGI_SDK", "bare")
_DSN = os.environ.get("BENCH_DSN", "")

if _SDK == "releasetag":
    import releasetag
    from releasetag.integrations.wsgi import ReleasetagMiddleware

    releasetag.init(_DSN, release="bench@1.0", environment="bench")
    app = ReleasetagMiddleware(hello)
elif _SDK == "sentry_sdk":
    import sentry_sdk
    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    sentry_sdk.init(_DSN, release="bench@1.0", environment="bench")
    app = SentryWsgiMiddleware(hello)
else:
    app = hello
