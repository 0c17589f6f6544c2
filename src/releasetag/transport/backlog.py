"""Envelopes the server has not accepted yet, kept in memory (the default) or on disk.

Both backlogs keep entries ordered by a sortable key (capture time in nanoseconds, pid,
sequence) and offer the same operations: ``put``, ``claim`` the oldest entry whose data
category is not rate limited, then ``ack`` (sent), ``release`` (try again later) or
``discard`` (dropped). Entries pushed out by the caps go to ``on_evict(reason, category, n)``.
"""

from __future__ import annotations

import bisect
import itertools
import os
import threading

from releasetag.protocol.records import Record

from . import reports
from .clock import wall_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, List, Optional, Set, Tuple


if TYPE_CHECKING:
    Evict = Callable[[str, str, int], None]
    Limited = Callable[[str], bool]


class Claim(Record):
    """One envelope taken out of a backlog for an attempt."""

    __slots__ = ("key", "category", "data", "path")

    def __init__(self, key: str, category: str, data: bytes, path: Optional[str] = None) -> None:
        self.key = key
        self.category = category
        self.data = data
        self.path = path  # the claimed file (disk spool only)


def make_key(ts_ns: int, pid: int, seq: int) -> str:
    """A key that sorts by capture time across processes: ``<ns>-<pid>-<seq>``."""
    return f"{ts_ns:019d}-{pid}-{seq:08d}"


def key_time(key: str) -> float:
    """The capture time (unix seconds) stored in a key; 0.0 when unreadable."""
    try:
        return int(key.split("-", 1)[0]) / 1e9
    except ValueError:
        return 0.0


def _noop_evict(reason: str, category: str, n: int) -> None:
    pass


# Envelopes at least this large wait compressed: a batch of 100 logs (about 125 kB of JSON that
# repeats its attribute names) shrinks 50-fold, so an outage keeps 50 times more of them
# within ``max_bytes``. Compressed on the sender thread, only when a send failed.
_PACK_FROM = 16 * 1024


class _Packed(bytes):
    """Envelope bytes held zlib-compressed (``_unpack`` gives them back)."""


def _pack(data: bytes) -> bytes:
    if len(data) < _PACK_FROM or isinstance(data, _Packed):
        return data
    import zlib

    return _Packed(zlib.compress(data, 1))


def _unpack(data: bytes) -> bytes:
    if isinstance(data, _Packed):
        import zlib

        return zlib.decompress(data)
    return data


class MemoryBacklog:
    """A bounded, ordered in-memory backlog; lost at exit (use a spool to keep it).

    Large envelopes wait compressed (``_PACK_FROM``); ``max_bytes`` bounds what is held."""

    durable = False

    def __init__(
        self,
        max_count: int = 1000,
        max_bytes: int = 32 * 1024 * 1024,
        on_evict: Evict = _noop_evict,
        evict_reason: Callable[[str], str] = lambda category: reports.NETWORK_ERROR,
    ) -> None:
        self.max_count = max(1, int(max_count))
        self.max_bytes = int(max_bytes)
        self.on_evict = on_evict
        self.evict_reason = evict_reason
        self._entries: List[Tuple[str, str, bytes]] = []
        self._bytes = 0
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, data: bytes, category: str, ts_ns: Optional[int] = None) -> str:
        key = make_key(ts_ns or wall_ns(), os.getpid(), next(self._seq))
        data = _pack(data)
        evicted = []
        with self._lock:
            bisect.insort(self._entries, (key, category, data))
            self._bytes += len(data)
            while len(self._entries) > self.max_count or (
                self._bytes > self.max_bytes and len(self._entries) > 1
            ):
                old = self._entries.pop(0)
                self._bytes -= len(old[2])
                evicted.append(old[1])
        for cat in evicted:
            self.on_evict(self.evict_reason(cat), cat, 1)
        return key

    def put_many(self, entries: List[Tuple[bytes, str, Optional[int]]]) -> List[str]:
        return [self.put(data, category, ts_ns) for data, category, ts_ns in entries]

    def claim(self, is_limited: Limited) -> Tuple[Optional[Claim], Set[str]]:
        """The oldest entry of a category that is not limited, and the categories skipped."""
        skipped: Set[str] = set()
        found = None
        with self._lock:
            i = 0
            while i < len(self._entries):
                key, category, data = self._entries[i]
                if is_limited(category):
                    skipped.add(category)
                    i += 1
                    continue
                del self._entries[i]
                self._bytes -= len(data)
                found = Claim(key, category, _unpack(data))
                break
        return found, skipped

    def ack(self, claim: Claim) -> None:
        pass

    def discard(self, claim: Claim) -> None:
        pass

    def set_aside(self, claim: Claim, why: str) -> None:
        """Entries in memory are the bytes the SDK wrote: nothing to set aside."""

    def collect(self) -> None:
        pass

    def release(self, claim: Claim) -> None:
        data = _pack(claim.data)
        with self._lock:
            bisect.insort(self._entries, (claim.key, claim.category, data))
            self._bytes += len(data)

    def remove(self, key: str) -> bool:
        """Forget the entry ``key`` if it is still waiting (it was delivered another way)."""
        with self._lock:
            for i, entry in enumerate(self._entries):
                if entry[0] == key:
                    del self._entries[i]
                    self._bytes -= len(entry[2])
                    return True
        return False

    def take_all(self) -> List[Tuple[str, str, bytes]]:
        with self._lock:
            entries, self._entries, self._bytes = self._entries, [], 0
        return [(key, category, _unpack(data)) for key, category, data in entries]

    def has_work(self) -> bool:
        return bool(self._entries)

    def reinit_after_fork(self) -> None:
        """A forked child starts empty: what the parent kept is the parent's to send."""
        self._lock = threading.Lock()
        self._entries = []
        self._bytes = 0
