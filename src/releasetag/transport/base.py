"""The transport seam: everything the client and the lifecycle hooks may call on a transport.

``HttpTransport`` is the one releasetag ships; ``releasetag.testing.CapturingTransport``
keeps events in a list. A transport of your own (``init(transport=...)``) subclasses
:class:`Transport` and implements at least ``capture_event`` and ``send_envelope``.

The client calls only the methods of :class:`Transport` (``capture_event``,
``capture_event_with``, ``send_envelope``, ``prepare``, ``record_lost``, ``flush``,
``close``, ``delivery_stats``, ``last_send_result``, ``set_sdk_info``); the lifecycle hooks
add ``is_idle`` and ``reinit_after_fork``. Whether a send is retried is decided in one place,
:meth:`releasetag.transport.retry.RetryPolicy.decide`.
"""

from __future__ import annotations

from releasetag.protocol.records import FrozenRecord

from .reports import DeliveryStats

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

    from ..options import Options
    from ..protocol.envelope import Envelope, Item
    from ..types import Event


class SendResult(FrozenRecord):
    """What became of one POST: ``ok`` when the server accepted it.

    Whether it is retried is the retry policy's decision (``policy.decide(status)``), made
    in one place.
    """

    __slots__ = ("ok", "status", "reason", "retry_after")
    ok: bool
    status: Optional[int]
    reason: str
    retry_after: Optional[float]  # seconds the server asked us to wait (bounded)

    def __init__(
        self,
        ok: bool,
        status: Optional[int] = None,
        reason: str = "",
        retry_after: Optional[float] = None,
    ) -> None:
        self._init(ok=ok, status=status, reason=reason, retry_after=retry_after)


class Transport:
    """Base class of transports. Never raises into the caller."""

    #: the outcome of the last POST (None before any, or for transports that do not post)
    last_result: Optional[SendResult] = None

    def __init__(self, options: Optional[Options] = None) -> None:
        self.options = options
        self.stats = DeliveryStats()

    def capture_event(self, event: Event) -> bool:
        """Queue ``event`` for delivery; False when it was dropped (and counted)."""
        raise NotImplementedError

    def capture_event_with(self, event: Event, items: List[Item]) -> bool:
        """Queue ``event`` with more items (a session update) for the same envelope.
        This default sends them in an envelope of their own."""
        from ..protocol.envelope import Envelope

        ok = self.capture_event(event)
        self.send_envelope(Envelope({}, list(items)))
        return ok

    def send_envelope(self, envelope: Envelope) -> bool:
        """Queue a ready envelope (sessions, attachments, ...)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Load what sending needs, on the calling (app) thread, before a background thread
        of the SDK may send (so no SDK thread imports while the app may fork)."""

    def record_lost(self, reason: str, category: str = "error", quantity: int = 1) -> None:
        """Count events the client dropped (sampling, before_send...): they show in
        ``delivery_stats()`` and go to the server as a client report."""
        self.stats.record_lost(reason, category, quantity)

    def last_send_result(self) -> Optional[SendResult]:
        """The outcome of the last POST (None before any, or when nothing is posted)."""
        return self.last_result

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until everything queued was delivered; False when ``timeout`` passed first."""
        return True

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flush within ``timeout`` and stop; nothing is sent afterwards."""
        return self.flush(timeout)

    def is_idle(self) -> bool:
        """True when nothing waits to be sent (exit hooks then skip the flush)."""
        return False

    def delivery_stats(self) -> Dict[str, Any]:
        """Counts: sent, queued, backlog, spooled, retries, dropped by reason."""
        snap = self.stats.snapshot()
        snap.setdefault("queued", 0)
        snap.setdefault("backlog", 0)
        return snap

    def set_sdk_info(self, sdk: Dict[str, Any]) -> None:
        """The SDK name and version for envelope headers."""

    def reinit_after_fork(self) -> None:
        """In a forked child: fresh delivery state, nothing of the parent's queue."""
        self.stats = DeliveryStats()
