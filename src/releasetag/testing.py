"""Helpers for your own tests: see exactly what releasetag would send, without a server.

>>> import releasetag
>>> from releasetag.testing import capture_events
>>> with capture_events(release="app@1") as events:
...     event_id = releasetag.capture_message("hello")
>>> events[0]["release"]
'app@1'
>>> events[0]["logentry"]["formatted"]
'hello'
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, List

from .transport.base import Transport
from .types import Event


class CapturingTransport(Transport):
    """A transport that keeps events (after the whole pipeline) in a list."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: List[Dict[str, Any]] = []
        #: the payloads of ``session`` and ``sessions`` items, in the order sent
        self.sessions: List[Dict[str, Any]] = []
        #: (event id, filename, content type, bytes) of each attachment sent with an event
        self.attachments: List[Any] = []
        #: logs and metrics as they travel (typed attributes), in the order sent
        self.logs: List[Dict[str, Any]] = []
        self.metrics: List[Dict[str, Any]] = []

    def capture_event(self, event: Event) -> bool:
        self.events.append(event)
        return True

    def capture_event_with(self, event: Event, items: List[Any]) -> bool:
        self.events.append(event)
        self._keep_sessions(items)
        for item in items:
            if item.type == "attachment":
                self.attachments.append(
                    (event.get("event_id"), item.headers.get("filename"),
                     item.headers.get("content_type"), item.payload)
                )  # fmt: skip
        return True

    def send_envelope(self, envelope: Any) -> bool:
        event = envelope.event
        if event is not None:
            self.events.append(event)
        self._keep_sessions(envelope.items)
        return True

    def _keep_sessions(self, items: Any) -> None:
        for item in items:
            if item.type in ("session", "sessions"):
                self.sessions.append({"type": item.type, **item.json()})
            elif item.type == "log":
                self.logs.extend(item.json()["items"])
            elif item.type == "trace_metric":
                self.metrics.extend(item.json()["items"])

    def is_idle(self) -> bool:
        return True


@contextmanager
def capture_events(**options: Any) -> Iterator[List[Dict[str, Any]]]:
    """init() with a capturing transport for the ``with`` block; yields the event list."""
    import releasetag

    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    releasetag.init(transport=transport, **options)
    try:
        yield transport.events
    finally:
        releasetag.close(timeout=0)
