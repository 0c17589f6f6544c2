"""Read and write Sentry envelopes; used by the transport, the spool and the collector alike.

Format: a JSON header line, then per item a JSON item-header line (with ``length`` in bytes)
and the payload, each followed by ``\\n``.
"""

from __future__ import annotations

import json

from releasetag.protocol.errors import InputError
from releasetag.protocol.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, List, Optional, Tuple

ENVELOPE_CONTENT_TYPE = "application/x-sentry-envelope"

# Item type -> rate-limit / client-report data category.
ITEM_CATEGORIES = {
    "event": "error",
    "transaction": "transaction",
    "attachment": "attachment",
    "session": "session",
    "sessions": "session",
    "client_report": "internal",
    "profile": "profile",
    "check_in": "monitor",
    "statsd": "metric_bucket",
    "log": "log_item",
    "trace_metric": "trace_metric",
}


class EnvelopeError(InputError):
    """The bytes are not a valid envelope; the message says where and why."""


def _dumps(obj: Any) -> bytes:
    return json.dumps(
        obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
    ).encode("utf-8")


class Item(Record):
    """One envelope item: its header (``type`` and extras) and its payload bytes."""

    __slots__ = ("headers", "payload")

    def __init__(self, headers: Dict[str, Any], payload: bytes) -> None:
        self.headers = headers
        self.payload = payload

    @classmethod
    def from_json(cls, item_type: str, obj: Any, **headers: Any) -> "Item":
        return cls(dict(type=item_type, content_type="application/json", **headers), _dumps(obj))

    @classmethod
    def from_bytes(cls, item_type: str, data: bytes, **headers: Any) -> "Item":
        return cls(dict(type=item_type, **headers), bytes(data))

    @property
    def type(self) -> str:
        return str(self.headers.get("type", ""))

    @property
    def data_category(self) -> str:
        if self.type == "event" and self.headers.get("_category"):
            return str(self.headers["_category"])
        return ITEM_CATEGORIES.get(self.type, "default")

    def json(self) -> Any:
        """The payload parsed as JSON (EnvelopeError when it is not)."""
        from . import jsonfmt  # loaded by the transport at the first capture, app thread

        try:
            return jsonfmt.loads(self.payload, f"{self.type or 'item'} payload")
        except jsonfmt.JsonError as exc:
            raise EnvelopeError(str(exc)) from None


class Envelope(Record):
    """An envelope header and its items."""

    __slots__ = ("headers", "items")

    def __init__(
        self, headers: Optional[Dict[str, Any]] = None, items: Optional[List[Item]] = None
    ) -> None:
        self.headers = {} if headers is None else headers
        self.items = [] if items is None else items

    def add_event(self, event: Dict[str, Any]) -> "Envelope":
        self.items.append(Item.from_json("event", event))
        return self

    def add_item(self, item: Item) -> "Envelope":
        self.items.append(item)
        return self

    @property
    def event(self) -> Optional[Dict[str, Any]]:
        for item in self.items:
            if item.type == "event":
                return item.json()
        return None

    def serialize(self) -> bytes:
        parts = [_dumps(self.headers), b"\n"]
        for item in self.items:
            headers = {k: v for k, v in item.headers.items() if not k.startswith("_")}
            headers["length"] = len(item.payload)
            parts += [_dumps(headers), b"\n", item.payload, b"\n"]
        return b"".join(parts)

    @classmethod
    def parse(cls, data: bytes) -> "Envelope":
        """Parse envelope bytes; raise EnvelopeError with a one-line reason."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise EnvelopeError("envelope must be bytes")
        data = bytes(data)
        line, pos = _read_line(data, 0)
        if not line.strip():
            raise EnvelopeError("envelope is empty or has no header line")
        headers = _parse_json_line(line, "envelope header")
        items: List[Item] = []
        while pos < len(data):
            line, pos = _read_line(data, pos)
            if not line.strip():
                continue  # tolerate trailing newlines
            item_headers = _parse_json_line(line, f"item {len(items) + 1} header")
            length = item_headers.get("length")
            if length is None:
                payload, pos = _read_line(data, pos)
            else:
                if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                    raise EnvelopeError(f"item {len(items) + 1} has an invalid length {length!r}")
                if pos + length > len(data):
                    raise EnvelopeError(
                        f"item {len(items) + 1} is truncated: length {length}, "
                        f"{len(data) - pos} bytes left"
                    )
                payload = data[pos : pos + length]
                pos += length
                if pos < len(data) and data[pos : pos + 1] == b"\n":
                    pos += 1
            items.append(Item(item_headers, payload))
        return cls(headers, items)


def _read_line(data: bytes, pos: int) -> Tuple[bytes, int]:
    end = data.find(b"\n", pos)
    if end < 0:
        return data[pos:], len(data)
    return data[pos:end], end + 1


def _parse_json_line(line: bytes, what: str) -> Dict[str, Any]:
    from . import jsonfmt

    try:
        obj = jsonfmt.loads(line, what)
    except jsonfmt.JsonError as exc:
        raise EnvelopeError(str(exc)) from None
    if not isinstance(obj, dict):
        raise EnvelopeError(f"{what} must be a JSON object")
    return obj


def event_envelope(
    event: Dict[str, Any],
    *,
    sent_at: Optional[str] = None,
    sdk: Optional[Dict[str, Any]] = None,
    dsn: Optional[str] = None,
    extra_items: Iterable[Item] = (),
) -> Envelope:
    """An envelope carrying one event (plus optional attachments)."""
    headers: Dict[str, Any] = {"event_id": event.get("event_id")}
    if sent_at:
        headers["sent_at"] = sent_at
    if sdk:
        headers["sdk"] = sdk
    if dsn:
        headers["dsn"] = dsn
    trace = (event.get("contexts") or {}).get("trace") or {}
    if trace.get("trace_id"):
        dsc = {"trace_id": trace["trace_id"]}
        for key in ("release", "environment"):
            if event.get(key):
                dsc[key] = event[key]
        headers["trace"] = dsc
    env = Envelope(headers)
    env.add_event(event)
    for item in extra_items:
        env.add_item(item)
    return env
