"""Batches of logs and metrics: a bounded buffer, a flusher thread, envelopes of one item.

Entries wait in memory until ``per_item`` of them are there (the flusher thread is woken) or
``interval`` seconds passed; each batch becomes one ``log`` (or ``trace_metric``) item in an
envelope of its own and takes the transport's path: queue, spool, retries, rate limits on its
category, client reports. The buffer is bounded (``max_buffer``); when the flusher falls
behind and it is full, the logging thread hands the batch to the transport itself, so an entry
is never dropped here (the transport counts what it cannot keep, in items and bytes).

``flush()`` and ``close()`` of the client, exit, ``os._exit`` and SIGTERM (``lifecycle``) flush
the buffer first; a forked child starts with an empty one (the parent sends its own).
"""

from __future__ import annotations

import os
import threading
import weakref

from .protocol.envelope import Envelope, Item
from .protocol.log import internal_error
from .protocol.telemetry import CONTAINER_VERSION
from .serialize import safe_repr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional

_SCALARS = (str, int, float, bool)
_live: weakref.WeakSet[Batcher] = weakref.WeakSet()
_fork_hook = False


class Batcher:
    """Collects entries of one item type and sends them in batches of at most ``per_item``."""

    def __init__(
        self,
        send: Callable[[Envelope], Any],
        item_type: str,
        content_type: str,
        to_wire: Callable[[Dict[str, Any]], Dict[str, Any]],
        per_item: int = 100,
        interval: float = 5.0,
        max_buffer: int = 10_000,
    ) -> None:
        self._send = send
        self.item_type = item_type
        self.content_type = content_type
        self._to_wire = to_wire
        self.per_item = per_item
        self.interval = interval
        self.max_buffer = max(per_item, max_buffer)
        self._reset()
        _live.add(self)
        _install_fork_hook()

    def _reset(self) -> None:
        self._buffer: List[Dict[str, Any]] = []
        # re-entrant: a log made while this thread holds them (a warning logged during a
        # send, a garbage collection) queues, or sends, without deadlock
        self._lock = threading.RLock()
        self._send_lock = threading.RLock()  # batches reach the transport in order
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._running = True
        self._local = threading.local()

    # --- app thread -------------------------------------------------------------------
    def add(self, entry: Dict[str, Any]) -> None:
        """Queue one entry (never raises, never drops: a full buffer is sent right here)."""
        if self._thread is None and not self._start():  # (a fork resets _thread)
            self._flush_here([entry])
            return
        with self._lock:
            buffer = self._buffer
            buffer.append(entry)
            n = len(buffer)
        if n >= self.per_item:
            if n >= self.max_buffer:
                self.flush()  # the flusher is behind: this thread sends (backpressure)
            elif n == self.per_item or n % self.per_item == 0:
                self._wake.set()

    def _start(self) -> bool:
        with self._lock:
            if self._thread is not None:
                return True
            thread = threading.Thread(
                target=self._loop, name=f"releasetag.{self.item_type}-batcher", daemon=True
            )
            try:
                thread.start()
            except RuntimeError:  # interpreter shutting down: no new threads
                return False
            self._thread = thread
        return True

    # --- flusher thread ---------------------------------------------------------------
    def _loop(self) -> None:
        self._local.busy = True
        while self._running:
            woken = self._wake.wait(self.interval)
            self._wake.clear()
            try:
                # woken by a full batch: full batches only (the rest waits for more), so a
                # burst travels in as few envelopes as it can; on the timer: everything
                self._flush_buffer(full_only=woken and self._running)
            except Exception:
                internal_error(f"sending a batch of {self.item_type} items failed")

    # --- any thread -------------------------------------------------------------------
    def flush(self) -> None:
        """Send every buffered entry now (in batches of ``per_item``)."""
        local = self._local
        was = getattr(local, "busy", False)
        local.busy = True
        try:
            self._flush_buffer()
        except Exception:
            internal_error(f"sending a batch of {self.item_type} items failed")
        finally:
            local.busy = was

    def close(self) -> None:
        """Flush and stop the flusher thread."""
        self.flush()
        self._running = False
        self._wake.set()

    def pending(self) -> int:
        return len(self._buffer)

    def _flush_buffer(self, full_only: bool = False) -> None:
        with self._lock:
            entries = self._buffer
            if full_only:
                cut = len(entries) - len(entries) % self.per_item
                entries, self._buffer = entries[:cut], entries[cut:]
            else:
                self._buffer = []
        if entries:
            self._flush_here(entries)

    def _flush_here(self, entries: List[Dict[str, Any]]) -> None:
        with self._send_lock:
            for start in range(0, len(entries), self.per_item):
                self._send(self.envelope(entries[start : start + self.per_item]))

    def envelope(self, entries: List[Dict[str, Any]]) -> Envelope:
        """One envelope with one item holding ``entries`` in the wire format."""
        wire = []
        for entry in entries:
            try:
                wire.append(self._to_wire(entry))
            except Exception:
                internal_error(f"a {self.item_type} entry could not be written")
        return Envelope({}, [make_item(self.item_type, self.content_type, wire)])

    def after_fork_in_child(self) -> None:
        self._reset()


def plain_value(value: Any) -> Any:
    """``value`` as an attribute keeps it: str, bool, int, float, a list of one of them, or
    its repr (so a log never holds a live reference to the app's objects)."""
    cls = value.__class__
    if cls is str or cls is int or cls is float or cls is bool:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return []
        first = value[0].__class__
        if first in _SCALARS and all(v.__class__ is first for v in value):
            return list(value)
    return safe_repr(value, 8192)


def plain_attributes(attributes: Any) -> Dict[str, Any]:
    """A mapping of attributes with plain values and string keys ({} for anything else)."""
    if not attributes or not hasattr(attributes, "items"):
        return {}
    return {str(k): plain_value(v) for k, v in attributes.items()}


def make_item(item_type: str, content_type: str, wire: List[Dict[str, Any]]) -> Item:
    """One ``log`` or ``trace_metric`` item: the container and its header fields."""
    payload = {"version": CONTAINER_VERSION, "items": wire}
    item = Item.from_json(item_type, payload, item_count=len(wire))
    item.headers["content_type"] = content_type
    return item


def _install_fork_hook() -> None:
    global _fork_hook
    if _fork_hook or not hasattr(os, "register_at_fork"):
        return
    _fork_hook = True
    os.register_at_fork(after_in_child=_after_fork)


def _after_fork() -> None:
    for batcher in list(_live):
        batcher.after_fork_in_child()
