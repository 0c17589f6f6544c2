"""A Flask app and a FastAPI app whose SDK integrations get sentry-sdk's constructor arguments,
under either SDK: ``APP_SDK`` is ``sentry_sdk`` or ``releasetag`` (the same code after the
rename), ``APP_STYLE`` the ``transaction_style``. Served by gunicorn (``flask_app``) and
uvicorn (``fastapi_app``) in tests/integrations/test_integration_arguments.py.

Paths: ``/orders/<id>`` raises inside a span; ``/unavailable`` answers 503 through the
framework's HTTPException (listed in ``failed_request_status_codes`` for FastAPI).
"""

from __future__ import annotations

import importlib
import os

SDK = os.environ["APP_SDK"]
STYLE = os.environ["APP_STYLE"]
sdk = importlib.import_module(SDK)
flask_mod = importlib.import_module(f"{SDK}.integrations.flask")
fastapi_mod = importlib.import_module(f"{SDK}.integrations.fastapi")
starlette_mod = importlib.import_module(f"{SDK}.integrations.starlette")
threading_mod = importlib.import_module(f"{SDK}.integrations.threading")

FAILED = {503}
sdk.init(
    os.environ["APP_DSN"],
    release="shop@2.0",
    environment="production",
    integrations=[
        flask_mod.FlaskIntegration(transaction_style=STYLE),
        starlette_mod.StarletteIntegration(
            transaction_style=STYLE, failed_request_status_codes=FAILED, middleware_spans=True
        ),
        fastapi_mod.FastApiIntegration(
            transaction_style=STYLE, failed_request_status_codes=FAILED, middleware_spans=True
        ),
        threading_mod.ThreadingIntegration(propagate_scope=True),
    ],
)

from fastapi import FastAPI, HTTPException  # noqa: E402  (after init, on purpose)
from flask import Flask, abort  # noqa: E402

flask_app = Flask(__name__)
fastapi_app = FastAPI()


def _fail(order_id: str) -> None:
    sdk.set_tag("order", order_id)
    with sdk.start_span(op="pricing", description="price order"):
        raise ValueError(f"cannot price order {order_id}")


@flask_app.route("/orders/<order_id>")
def flask_order(order_id):
    _fail(order_id)


@flask_app.route("/unavailable")
def flask_unavailable():
    abort(503)


@fastapi_app.get("/orders/{order_id}")
async def fastapi_order(order_id: str):
    _fail(order_id)


@fastapi_app.get("/unavailable")
async def fastapi_unavailable():
    raise HTTPException(status_code=503, detail="down for maintenance")
