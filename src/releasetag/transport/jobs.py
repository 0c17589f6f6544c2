"""The jobs the HTTP transport's worker runs: an event to serialize and send, an envelope to
send, and an envelope on its way to the disk spool. Each can also give its payload (bytes,
data category, capture time) for the backlog when it cannot run."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Optional, Tuple

    from ..types import Event
    from .http_transport import HttpTransport


class EventJob:
    """A queued event: sent by the worker, or written to the spool if it cannot run."""

    __slots__ = ("transport", "event", "ts_ns", "items")
    category = "error"

    def __init__(self, transport: HttpTransport, event: Event, ts_ns: int, items: Any = ()) -> None:
        self.transport, self.event, self.ts_ns, self.items = transport, event, ts_ns, items

    def __call__(self) -> None:
        data = self.transport._event_bytes(self.event, self.items)
        if data is not None:
            self.transport._dispatch(data, "error", self.ts_ns)

    def payload(self) -> Optional[Tuple[bytes, str, int]]:
        data = self.transport._event_bytes(self.event, self.items)
        return None if data is None else (data, "error", self.ts_ns)


class EnvelopeJob:
    __slots__ = ("transport", "data", "category", "ts_ns")

    def __init__(self, transport: HttpTransport, data: bytes, category: str, ts_ns: int) -> None:
        self.transport, self.data, self.category, self.ts_ns = transport, data, category, ts_ns

    def __call__(self) -> None:
        self.transport._dispatch(self.data, self.category, self.ts_ns)

    def payload(self) -> Tuple[bytes, str, int]:
        return self.data, self.category, self.ts_ns


class SpillJob:
    """An envelope that did not fit the memory queue, on its way to the spool."""

    __slots__ = ("transport", "job")

    def __init__(self, transport: HttpTransport, job: Any) -> None:
        self.transport, self.job = transport, job

    def __call__(self) -> None:
        spooler = self.transport.spooler
        assert spooler is not None  # spills exist only with a spooler
        self.transport._write_spills([self, *spooler.take(63)])

    def payload(self) -> Optional[Tuple[bytes, str, int]]:
        return self.job.payload()


def payloads_of(jobs: List[Any]) -> List[Tuple[bytes, str, int]]:
    """The envelopes of ``jobs`` (an event the SDK failed to write is left out: counted)."""
    return [p for p in (job.payload() for job in jobs) if p is not None]
