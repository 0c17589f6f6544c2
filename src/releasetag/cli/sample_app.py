"""The small shop app ``releasetag demo`` runs: it reports errors through the releasetag SDK.

Run as ``python -m releasetag.cli.sample_app`` with RELEASETAG_DSN, RELEASETAG_RELEASE and
RELEASETAG_ENVIRONMENT set; prints one JSON line saying what it reported. Each way of reporting
is a function in ``SCENARIOS``; the ones that need an integration run when it is installed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

import releasetag


class PaymentDeclined(Exception):
    """The sample app's own error type."""


def charge(cart: dict) -> None:
    total = sum(item["price"] * item["qty"] for item in cart["items"])
    if total > cart["limit"]:
        raise PaymentDeclined(f"total {total} is over the card limit {cart['limit']}")


def checkout(cart: dict) -> None:
    charge(cart)


def plain_capture() -> Optional[str]:
    """A handled exception reported with capture_exception."""
    try:
        checkout({"items": [{"price": 120, "qty": 2}], "limit": 100})
    except PaymentDeclined:
        return "capture_exception" if releasetag.capture_exception() else None
    return None


def message_capture() -> Optional[str]:
    releasetag.set_tag("shop.region", "eu-west")
    eid = releasetag.capture_message("demo: payment provider answered slowly", level="warning")
    return "capture_message" if eid else None


def logging_error() -> Optional[str]:
    """An error log record; becomes an event when the logging integration is installed."""
    try:
        import releasetag.integrations.logging  # noqa: F401
    except ImportError:
        return None
    log = logging.getLogger("shop.inventory")
    try:
        {"sku-1": 3}["sku-2"]
    except KeyError:
        log.error("inventory sync failed for %s", "sku-2", exc_info=True)
    return "logging"


def wsgi_request() -> Optional[str]:
    """A failing request through the WSGI middleware, when it is installed."""
    try:
        from releasetag.integrations import wsgi
    except ImportError:
        return None
    middleware = getattr(wsgi, "ReleasetagMiddleware", None)
    if middleware is None:
        return None
    from wsgiref.util import setup_testing_defaults

    def app(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        raise ZeroDivisionError("cart has no items to average")

    environ: dict = {"PATH_INFO": "/cart/average", "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    try:
        result = middleware(app)(environ, lambda status, headers, exc_info=None: None)
        for _ in result:
            pass
    except ZeroDivisionError:
        pass
    return "wsgi"


def celery_task() -> Optional[str]:
    """A failing Celery task run eagerly, when Celery and the integration are installed."""
    try:
        import celery  # noqa: F401

        import releasetag.integrations.celery  # noqa: F401
    except ImportError:
        return None
    app = celery.Celery("shop", broker="memory://", backend="cache+memory://")
    app.conf.task_always_eager = True

    @app.task(name="shop.send_receipt")
    def send_receipt(order_id: int) -> None:
        raise ConnectionError(f"mail server refused receipt for order {order_id}")

    try:
        send_receipt.delay(42).get(propagate=True)
    except ConnectionError:
        pass
    return "celery"


TRAFFIC = 50  # requests of the traffic scenario


def traffic() -> Optional[str]:
    """Requests through the WSGI middleware, each one a session (release health):
    ``RELEASETAG_DEMO_CRASHES`` of them (default none) crash."""
    from wsgiref.util import setup_testing_defaults

    from releasetag.integrations.wsgi import ReleasetagMiddleware

    crashes = int(os.environ.get("RELEASETAG_DEMO_CRASHES", "0"))

    def app(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        n = int(environ["QUERY_STRING"])
        if n < crashes:
            raise TimeoutError("stock service did not answer in time")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    middleware = ReleasetagMiddleware(app)
    for n in range(TRAFFIC):
        environ: dict = {"PATH_INFO": "/cart", "QUERY_STRING": str(n), "REQUEST_METHOD": "GET"}
        setup_testing_defaults(environ)
        try:
            middleware(environ, lambda status, headers, exc_info=None: None)
        except TimeoutError:
            pass
    return "sessions"


SCENARIOS: List[Tuple[str, Callable[[], Optional[str]]]] = [
    ("plain capture", plain_capture),
    ("message", message_capture),
    ("logging", logging_error),
    ("wsgi request", wsgi_request),
    ("celery task", celery_task),
    ("traffic", traffic),
]


def main() -> int:
    # DSN, release and environment come from RELEASETAG_* variables; this app lives inside the
    # releasetag package, whose frames are never in-app unless included by name
    releasetag.init(in_app_include=["__main__", "releasetag.cli.sample_app"])
    done = []
    for _name, scenario in SCENARIOS:
        try:
            what = scenario()
        except Exception as exc:  # one scenario's problem must not stop the others
            what = None
            sys.stderr.write(f"sample app: {_name} failed: {exc}\n")
        if what:
            done.append(what)
    releasetag.flush(timeout=10)
    sys.stdout.write(json.dumps({"reported": done}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
