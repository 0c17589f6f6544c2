"""A FastAPI shop under the releasetag SDK (``APP_DSN``): ``POST /checkout/{cart_id}?coupon=``
logs a step, leaves a breadcrumb, then fails in its own code with local variables, one
exception raised while handling another (the page tests' realistic error)."""

from __future__ import annotations

import logging
import os

import releasetag

releasetag.init(
    os.environ["APP_DSN"],
    release=os.environ.get("APP_RELEASE", "demo-shop@1.0.2"),
    environment="production",
    server_name="web-7",
)

from fastapi import FastAPI  # noqa: E402  (after init, on purpose)

log = logging.getLogger("shop.checkout")
log.setLevel(logging.INFO)
app = FastAPI()
PRICES = {"book": 12.5, "lamp": 40.0}


def price_of(items: dict) -> float:
    total = 0.0
    for name, count in items.items():
        total += PRICES[name] * count  # KeyError for an unknown item
    return total


@app.post("/checkout/{cart_id}")
async def checkout(cart_id: str, order: dict, coupon: str = "") -> dict:
    log.info("checkout of cart %s started", cart_id)
    releasetag.add_breadcrumb(category="cart", message="cart loaded", data={"items": len(order)})
    items = order.get("items", {})
    try:
        total = price_of(items)
    except KeyError as exc:
        raise ValueError(f"cannot price cart {cart_id}") from exc
    return {"total": total, "coupon": coupon}
