"""Counts of events that were not sent, by reason and category (sent as client reports)."""

from __future__ import annotations

import threading
import time
from collections import Counter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

# Reasons from the protocol (docs/protocol.md §1).
QUEUE_OVERFLOW = "queue_overflow"
RATELIMIT_BACKOFF = "ratelimit_backoff"
NETWORK_ERROR = "network_error"
SAMPLE_RATE = "sample_rate"
BEFORE_SEND = "before_send"
EVENT_PROCESSOR = "event_processor"
SEND_ERROR = "send_error"
CACHE_OVERFLOW = "cache_overflow"
CALLBACK_ERROR = "callback_error"  # before_send_log / before_send_metric raised (sentry-sdk's)
INTERNAL_SDK_ERROR = "internal_sdk_error"  # the SDK failed on the event (a bug): counted


# batched categories: a lost envelope counts its items, and its bytes in the byte category
_BATCHED = {"log_item": "log_byte", "trace_metric": "trace_metric_byte"}
_BYTE_CATEGORIES = frozenset(_BATCHED.values())


def envelope_losses(category: str, data: bytes) -> Dict[str, int]:
    """What losing the envelope ``data`` of ``category`` counts: 1 for most categories; for
    logs and metrics, the items' ``item_count`` and their payload bytes (as sentry-sdk)."""
    byte_category = _BATCHED.get(category)
    if byte_category is None:
        return {category: 1}
    try:
        from ..protocol.envelope import Envelope

        count = size = 0
        for item in Envelope.parse(data).items:
            if item.data_category == category:
                n = item.headers.get("item_count")
                count += n if isinstance(n, int) and n > 0 else 1
                size += len(item.payload)
        return {category: count or 1, byte_category: size}
    except Exception:
        return {category: 1}


class DeliveryStats:
    """Thread-safe counters: sent, dropped by (reason, category), and pending reports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0
        self.spooled = 0  # envelopes written to the disk spool (spilled or kept for a retry)
        self.retries = 0  # attempts that failed and will be retried
        self.dropped: Counter = Counter()
        self._unreported: Counter = Counter()

    def record_sent(self, n: int = 1) -> None:
        with self._lock:
            self.sent += n

    def record_spooled(self, n: int = 1) -> None:
        with self._lock:
            self.spooled += n

    def record_retry(self, n: int = 1) -> None:
        with self._lock:
            self.retries += n

    def has_unreported(self) -> bool:
        return bool(self._unreported)

    def record_lost(self, reason: str, category: str = "error", quantity: int = 1) -> None:
        with self._lock:
            self.dropped[(reason, category)] += quantity
            self._unreported[(reason, category)] += quantity

    def record_lost_envelope(self, reason: str, category: str, data: bytes) -> None:
        """Count a lost envelope: its items for logs and metrics (``envelope_losses``)."""
        for lost_category, quantity in envelope_losses(category, data).items():
            if quantity:
                self.record_lost(reason, lost_category, quantity)

    def take_report(self) -> Optional[Dict[str, Any]]:
        """The client report payload for losses not yet reported, or None."""
        with self._lock:
            if not self._unreported:
                return None
            items = list(self._unreported.items())
            self._unreported.clear()
        return {
            "timestamp": time.time(),
            "discarded_events": [
                {"reason": r, "category": c, "quantity": q} for (r, c), q in items
            ],
        }

    def restore_report(self, report: Dict[str, Any]) -> None:
        """Put a report that could not be sent back into the unreported counts."""
        with self._lock:
            for entry in report.get("discarded_events", ()):
                self._unreported[(entry["reason"], entry["category"])] += entry["quantity"]

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            dropped: Dict[str, int] = {}
            for (reason, category), n in self.dropped.items():
                if category not in _BYTE_CATEGORIES:  # sizes, not items
                    dropped[reason] = dropped.get(reason, 0) + n
            return {
                "sent": self.sent,
                "spooled": self.spooled,
                "retries": self.retries,
                "dropped": dropped,
                "dropped_total": sum(dropped.values()),
            }
