"""Wire facts of Sentry's batched telemetry items: ``log`` and ``trace_metric``.

Learnt from what sentry-sdk 2.76 sends (docs/protocol.md, "Logs and metrics"): one item holds
a container ``{"version": 2, "items": [...]}``; its header names ``type``, ``item_count`` and
``content_type``. Every attribute travels typed: ``{"value": v, "type": t}``.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Tuple

CONTAINER_VERSION = 2
MAX_ITEMS_PER_LOG_ITEM = 100  # releasetag's cap per item (sentry-sdk flushes at 100 too)
MAX_ITEMS_PER_METRIC_ITEM = 1000  # sentry-sdk's flush size for trace metrics

LOG_ITEM = "log"
LOG_CONTENT_TYPE = "application/vnd.sentry.items.log+json"
METRIC_ITEM = "trace_metric"
METRIC_CONTENT_TYPE = "application/vnd.sentry.items.trace-metric+json"

# data categories (rate limits, client reports)
LOG_CATEGORY = "log_item"
LOG_BYTE_CATEGORY = "log_byte"
METRIC_CATEGORY = "trace_metric"
METRIC_BYTE_CATEGORY = "trace_metric_byte"

METRIC_TYPES = ("counter", "gauge", "distribution")

# OpenTelemetry severity numbers of the SDK's levels, and the text each range is sent with
SEVERITY: Dict[str, Tuple[int, str]] = {
    "trace": (1, "trace"),
    "debug": (5, "debug"),
    "info": (9, "info"),
    "warning": (13, "warn"),
    "error": (17, "error"),
    "fatal": (21, "fatal"),
}
_TEXTS = ((4, "trace"), (8, "debug"), (12, "info"), (16, "warn"), (20, "error"), (24, "fatal"))

# Python logging level -> severity number (the highest level not above the record's wins)
LOGGING_SEVERITY = ((50, 21), (40, 17), (30, 13), (20, 9), (10, 5))
# loguru level numbers -> severity number (SUCCESS, 25, is info 11; TRACE, 5, is trace 1)
LOGURU_SEVERITY = ((50, 21), (40, 17), (30, 13), (25, 11), (20, 9), (10, 5), (5, 1))


def severity_text(number: int) -> str:
    """The severity text of an OpenTelemetry severity number ("default" outside 1-24)."""
    if number < 1:
        return "default"
    for upper, text in _TEXTS:
        if number <= upper:
            return text
    return "default"


def severity_of(levelno: int, table: Tuple[Tuple[int, int], ...] = LOGGING_SEVERITY) -> int:
    """The severity number of a logging (or loguru) level number; 0 below every level."""
    for level, number in table:
        if levelno >= level:
            return number
    return 0


def typed(value: Any) -> Dict[str, Any]:
    """One attribute value as it travels: string, boolean, integer, double or array.

    Arrays hold values of one scalar type; anything else travels as a string. Values are
    expected to be made plain first (``logs.plain_value``); NaN and infinities become strings,
    as JSON cannot carry them."""
    cls = value.__class__
    if cls is str:
        return {"value": value, "type": "string"}
    if cls is bool:
        return {"value": value, "type": "boolean"}
    if cls is int:
        return {"value": value, "type": "integer"}
    if cls is float:
        if math.isinf(value) or math.isnan(value):
            return {"value": str(value), "type": "string"}
        return {"value": value, "type": "double"}
    if cls is list:
        if not value:
            return {"value": [], "type": "array"}
        first = value[0].__class__
        if first in (str, int, float, bool) and all(v.__class__ is first for v in value):
            if first is not float or all(not (math.isinf(v) or math.isnan(v)) for v in value):
                return {"value": value, "type": "array"}
    return {"value": str(value), "type": "string"}
