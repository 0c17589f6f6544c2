"""Checking ``log`` and ``trace_metric`` envelope items (docs/protocol.md, "Logs in the
collector") into rows for ``db/logs.py``.

An item's payload is ``{"items": [...]}``. Each log keeps what is valid: an attribute of an
unknown type or a bad value is dropped, a missing or bad timestamp becomes the time received,
a body over ``MAX_BODY`` characters is cut, attributes beyond ``MAX_ATTRIBUTES`` are dropped
and lone surrogates become U+FFFD. A log that is not an object (or has no body) is rejected
alone; an item that is not JSON, not ``{"items": [...]}`` or over ``MAX_ITEM`` bytes is
rejected whole. Rejections are counted per reason (``rejected_items``) and the other items of
the envelope are kept.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

from releasetag.collector.db.logs import MAX_TIMESTAMP
from releasetag.protocol.envelope import EnvelopeError, Item

MAX_ITEM = 1024 * 1024  # one item's payload, as for an event
MAX_BODY = 64 * 1024  # characters of one log body
MAX_ATTRIBUTES = 1000  # attributes kept per log
MAX_LOGS = 1000  # logs per item
MAX_TEXT = 250  # release, environment, logger, metric name and unit
LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
_LEVEL_ALIASES = {"warning": "warn", "critical": "fatal", "err": "error"}
_TYPES = {"string": str, "boolean": bool, "integer": int, "double": float}
_HEX = frozenset("0123456789abcdef")


class Rejected(ValueError):
    """An item (or one log of it) that cannot be kept; the message is the counted reason."""


def clean(text: str) -> str:
    """``text`` without lone surrogates (each becomes U+FFFD), so it can be stored."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _text(value: Any, limit: int = MAX_TEXT) -> Optional[str]:
    return clean(value)[:limit] if isinstance(value, str) and value else None


def _hex_id(value: Any, size: int) -> Optional[str]:
    if not isinstance(value, str):
        return None
    text = value.replace("-", "").lower()
    return text if len(text) == size and set(text) <= _HEX else None


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _attr_value(kind: Any, value: Any) -> Any:
    """The value of one typed attribute, or raise ``ValueError`` when it is not valid."""
    if kind == "array":
        if not isinstance(value, list) or not all(
            isinstance(v, (str, int, float, bool)) for v in value
        ):
            raise ValueError(kind)
        return [clean(v) if isinstance(v, str) else v for v in value]
    expected = _TYPES.get(kind) if isinstance(kind, str) else None
    if expected is None:
        raise ValueError(kind)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise ValueError(kind)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(kind)
    return clean(value) if isinstance(value, str) else value


def attributes(raw: Any) -> Dict[str, Dict[str, Any]]:
    """The valid typed attributes of ``raw`` (at most ``MAX_ATTRIBUTES``)."""
    out: Dict[str, Dict[str, Any]] = {}
    if not isinstance(raw, dict):
        return out
    for key, attr in raw.items():
        if len(out) >= MAX_ATTRIBUTES:
            break
        if not isinstance(attr, dict) or not isinstance(key, str):
            continue
        try:
            value = _attr_value(attr.get("type"), attr.get("value"))
        except ValueError:
            continue
        out[clean(key)[:MAX_TEXT]] = {"value": value, "type": attr["type"]}
    return out


def _attr(attrs: Dict[str, Dict[str, Any]], *names: str) -> Any:
    for name in names:
        if name in attrs:
            return attrs[name]["value"]
    return None


def level_of(log: Dict[str, Any], attrs: Dict[str, Dict[str, Any]]) -> str:
    raw = log.get("level") or log.get("severity_text") or _attr(attrs, "sentry.severity_text")
    level = raw.lower() if isinstance(raw, str) else "info"
    level = _LEVEL_ALIASES.get(level, level)
    return level if level in LEVELS else "info"


def parse_payload(item: Item) -> List[Any]:
    """The ``items`` list of a log or metric item; Rejected when it has none."""
    if len(item.payload) > MAX_ITEM:
        raise Rejected(f"payload is over {MAX_ITEM} bytes")
    try:
        payload = item.json()
    except EnvelopeError:
        raise Rejected("payload is not valid UTF-8 JSON") from None
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise Rejected('payload is not {"items": [...]}')
    if len(items) > MAX_LOGS:
        raise Rejected(f"more than {MAX_LOGS} entries in one item")
    return items


def log_row(project_id: int, received: float, log: Any) -> Tuple[Any, ...]:
    """One log as a row of ``db.logs.LOG_COLUMNS`` (without ``id``); Rejected when it
    cannot be kept."""
    if not isinstance(log, dict):
        raise Rejected("log is not a JSON object")
    body = log.get("body")
    if not isinstance(body, str):
        raise Rejected("log has no body")
    attrs = attributes(log.get("attributes"))
    timestamp = _number(log.get("timestamp"))
    if timestamp is None or not 0 < timestamp < MAX_TIMESTAMP:
        timestamp = received
    severity = _number(log.get("severity_number"))
    if severity is None:
        severity = _number(_attr(attrs, "sentry.severity_number"))
    body = clean(body).replace("\x00", "\ufffd")  # SQLite's LIKE ends text at a NUL
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + "..."
    return (
        uuid.uuid4().hex,
        project_id,
        received,
        timestamp,
        _text(_attr(attrs, "sentry.release")),
        _text(_attr(attrs, "sentry.environment")),
        level_of(log, attrs),
        int(severity) if severity is not None and 0 <= severity <= 255 else None,
        _text(_attr(attrs, "logger.name", "sentry.logger.name")),
        _hex_id(log.get("trace_id"), 32),
        _hex_id(log.get("span_id"), 16),
        body,
        json.dumps(attrs, ensure_ascii=False, allow_nan=False),
    )


def metric_sample(metric: Any) -> Dict[str, Any]:
    """One ``trace_metric`` entry as a sample for the aggregates; Rejected when unusable."""
    if not isinstance(metric, dict):
        raise Rejected("metric is not a JSON object")
    name, kind, value = _text(metric.get("name")), metric.get("type"), _number(metric.get("value"))
    if name is None or kind not in ("counter", "gauge", "distribution") or value is None:
        raise Rejected("metric needs a name, a type (counter, gauge, distribution) and a number")
    attrs = attributes(metric.get("attributes"))
    timestamp = _number(metric.get("timestamp"))
    return {
        "name": name,
        "type": kind,
        "value": value,
        "unit": _text(metric.get("unit")) or "",
        "timestamp": timestamp if timestamp is not None else time.time(),
        "release": _text(_attr(attrs, "sentry.release")) or "",
        "environment": _text(_attr(attrs, "sentry.environment")) or "",
    }


class LogItems:
    """The log rows, metric samples and rejections of one envelope."""

    def __init__(self) -> None:
        self.received = time.time()
        self.rows: List[Tuple[Any, ...]] = []
        self.metrics: List[Dict[str, Any]] = []
        self.rejected: List[Tuple[str, str]] = []

    def add(self, item: Item) -> None:
        """Take one ``log`` or ``trace_metric`` item (rows get their project in ``store``)."""
        kind = item.type or ""
        try:
            entries = parse_payload(item)
        except Rejected as exc:
            self.rejected.append((kind, str(exc)))
            return
        for entry in entries:
            try:
                if kind == "log":
                    self.rows.append(log_row(0, self.received, entry))
                else:
                    self.metrics.append(metric_sample(entry))
            except Rejected as exc:
                self.rejected.append((kind, str(exc)))

    def __bool__(self) -> bool:
        return bool(self.rows or self.metrics or self.rejected)

    def store(self, store: Any, project_id: int) -> None:
        rows = [(r[0], project_id) + r[2:] for r in self.rows]
        store.insert_logs(project_id, rows, self.metrics, self.rejected)
