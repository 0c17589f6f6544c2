"""``releasetag.metrics``: counters, gauges and distributions as ``trace_metric`` items.

>>> import releasetag
>>> releasetag.metrics.count("checkout.paid", 1, attributes={"shop": "eu"})

Each call becomes one metric (sentry-sdk 2.76's shape: ``timestamp``, ``name``, ``type``,
``value`` as a float, ``unit``, typed ``attributes`` with release and environment, the current
``trace_id``), batched like logs (at most 1,000 per item, every few seconds). On unless
``enable_metrics=False``; ``before_send_metric`` may change or drop each one. No call raises.
"""

from __future__ import annotations

import time

from . import current
from .logs import scope_attributes, trace_ids
from .protocol.log import get_logger, internal_error
from .protocol.telemetry import (
    MAX_ITEMS_PER_METRIC_ITEM,
    METRIC_BYTE_CATEGORY,
    METRIC_CATEGORY,
    METRIC_CONTENT_TYPE,
    METRIC_ITEM,
    typed,
)
from .telemetry import plain_value
from .transport import reports
from .transport.reports import CALLBACK_ERROR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

    from .client import Client
    from .telemetry import Batcher

__all__ = ["count", "gauge", "distribution"]


def count(
    name: str, value: float, unit: Optional[str] = None, attributes: Optional[Dict[str, Any]] = None
) -> None:
    """Add ``value`` to the counter ``name``."""
    _capture(name, "counter", value, unit, attributes)


def gauge(
    name: str, value: float, unit: Optional[str] = None, attributes: Optional[Dict[str, Any]] = None
) -> None:
    """Set the gauge ``name`` to ``value``."""
    _capture(name, "gauge", value, unit, attributes)


def distribution(
    name: str, value: float, unit: Optional[str] = None, attributes: Optional[Dict[str, Any]] = None
) -> None:
    """Record one ``value`` of the distribution ``name``."""
    _capture(name, "distribution", value, unit, attributes)


def _capture(
    name: str, kind: str, value: Any, unit: Optional[str], attributes: Optional[Dict[str, Any]]
) -> None:
    client = current.get_client()
    if client is None or client.transport is None or not client.options.enable_metrics:
        return
    try:
        attrs: Dict[str, Any] = {}
        if attributes:
            for key, val in attributes.items():
                attrs[str(key)] = plain_value(val)
        scope_attributes(attrs, client)
        for key, val in client.telemetry_defaults().items():
            if key not in attrs:
                attrs[key] = val
        trace_id, span_id = trace_ids()
        metric: Dict[str, Any] = {
            "timestamp": time.time(),
            "trace_id": trace_id,
            "span_id": span_id,
            "name": str(name),
            "type": kind,
            "value": float(value),
            "unit": unit,
            "attributes": attrs,
        }
    except Exception:
        internal_error(f"capturing the metric {name!r} failed")
        return
    _queue(client, metric)


def _queue(client: Client, metric: Dict[str, Any]) -> None:
    before = client.options.before_send_metric
    if before is not None:
        try:
            kept = before(metric, {})
        except Exception:
            get_logger().warning("before_send_metric raised; the metric is dropped", exc_info=True)
            _record_lost(client, metric, CALLBACK_ERROR)
            return
        if kept is None:
            _record_lost(client, metric, reports.BEFORE_SEND)
            return
        metric = kept
    batcher = client.metric_batcher()
    if batcher is not None:
        batcher.add(metric)


def _record_lost(client: Client, metric: Dict[str, Any], reason: str) -> None:
    transport = client.transport
    if transport is None:
        return
    transport.record_lost(reason, METRIC_CATEGORY)
    try:
        from .telemetry import make_item

        item = make_item(METRIC_ITEM, METRIC_CONTENT_TYPE, [to_wire(metric)])
        transport.record_lost(reason, METRIC_BYTE_CATEGORY, len(item.payload))
    except Exception:
        pass


def to_wire(metric: Dict[str, Any]) -> Dict[str, Any]:
    """One metric as it travels in the container."""
    out: Dict[str, Any] = {
        "timestamp": metric["timestamp"],
        "name": metric["name"],
        "type": metric["type"],
        "value": metric["value"],
        "attributes": {
            str(k): typed(plain_value(v)) for k, v in (metric.get("attributes") or {}).items()
        },
    }
    for key in ("trace_id", "span_id", "unit"):
        if metric.get(key) is not None:
            out[key] = metric[key]
    return out


def make_batcher(client: Client, send: Any) -> Batcher:
    from .telemetry import Batcher

    return Batcher(
        send,
        METRIC_ITEM,
        METRIC_CONTENT_TYPE,
        to_wire,
        per_item=MAX_ITEMS_PER_METRIC_ITEM,
        interval=client.options.logs_flush_interval,
        max_buffer=max(client.options.logs_buffer_size, MAX_ITEMS_PER_METRIC_ITEM),
    )
