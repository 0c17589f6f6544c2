"""A disk spool: envelopes the server has not accepted, kept in one directory.

Layout (all files in ``spool_dir``)::

    <ns>-<pid>-<seq>-<bytes>.<category>.env            waiting, oldest name first
    <ns>-<pid>-<seq>-<bytes>.<category>.env.claim-<pid>-<token>   being sent by that process
    .tmp-<pid>-<token>-<seq>                            being written
    .done-<claim name>                                  finished, deleted in the background
    .corrupt-<name>                                     not an envelope: set aside, deleted
                                                        after ``max_age``

- Writes are atomic: temp file, ``fsync``, ``rename``; a reader never sees half an envelope.
- Several processes may share the directory (gunicorn or Celery workers). No lock file is
  used (so none can be held across a fork): a process claims an envelope by renaming it to
  its own claim name, which succeeds for exactly one process. After the attempt the claim is
  deleted (sent or dropped) or renamed back (try again later).
- Claims of processes that died (or of an earlier process that had the same pid) are renamed
  back on the next scan, so a SIGKILL loses nothing.
- Caps on count, bytes and age; the oldest envelopes are evicted first, each one counted.
- A file that is not what was written (empty, or not the size its name says; the transport
  also parses each envelope before sending it) is set aside, never sent, and reported to
  ``on_corrupt``. Anything that is not a regular file (a directory, a symlink) is left alone.
"""

from __future__ import annotations

import bisect
import itertools
import os
import stat
import threading

from . import reports
from .backlog import Claim, _noop_evict, key_time, make_key
from .clock import monotonic, wall_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterator, List, Optional, Sequence, Set, Tuple

    from .backlog import Evict, Limited

    #: (file name, data category, why) of an envelope file set aside as corrupt
    Corrupt = Callable[[str, str, str], None]

SUFFIX = ".env"
CLAIM = ".claim-"
TMP_PREFIX = ".tmp-"
DONE_PREFIX = ".done-"  # sent or dropped: renamed (fast), deleted later (slow on some disks)
CORRUPT_PREFIX = ".corrupt-"  # not an envelope: kept for a look, deleted after max_age

DEFAULT_MAX_COUNT = 10_000
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_AGE = 3 * 24 * 3600.0


def pid_alive(pid: int) -> bool:
    """True when a process with ``pid`` exists (it may belong to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _parse_name(name: str) -> Optional[Tuple[str, int, str]]:
    """``<key>-<bytes>.<category>.env`` -> (key, bytes, category), None for other files."""
    if not name.endswith(SUFFIX) or name.startswith("."):
        return None
    stem = name[: -len(SUFFIX)]
    head, _, category = stem.rpartition(".")
    key, _, size = head.rpartition("-")
    if not key or not size.isdigit() or not category:
        return None
    return key, int(size), category


def _safe_category(category: str) -> str:
    return "".join(c for c in category if c.isalnum() or c == "_") or "default"


class DiskSpool:
    """The disk backlog; see the module docstring for the layout and the guarantees."""

    durable = True

    def __init__(
        self,
        directory: str,
        max_count: int = DEFAULT_MAX_COUNT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age: float = DEFAULT_MAX_AGE,
        on_evict: Evict = _noop_evict,
        stale_claim_after: float = 600.0,
        rescan_interval: float = 1.0,
        on_corrupt: Optional[Corrupt] = None,
    ) -> None:
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self.max_count = max(1, int(max_count))
        self.max_bytes = int(max_bytes)
        self.max_age = float(max_age)
        self.on_evict = on_evict
        self.on_corrupt = on_corrupt
        self.stale_claim_after = stale_claim_after
        self.rescan_interval = rescan_interval
        self._init_process_state()

    def _init_process_state(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._token = os.urandom(4).hex()
        self._seq = itertools.count()
        # names known to be waiting (sorted), with their total size; refreshed by scans
        self._known: List[str] = []
        self._known_bytes = 0
        self._last_scan = 0.0
        self._scanned_once = False
        self._done: List[str] = []
        # names added (put, release) while a scan is listing the directory: the scan's
        # result must not forget them
        self._added_during_scan: Optional[List[str]] = None
        self._scans_running = 0

    # --- writing ------------------------------------------------------------------------
    def put(self, data: bytes, category: str, ts_ns: Optional[int] = None) -> str:
        """Write one envelope atomically; evict the oldest ones beyond the caps."""
        return self.put_many([(data, category, ts_ns)])[0]

    def put_many(self, entries: Sequence[Tuple[bytes, str, Optional[int]]]) -> List[str]:
        """Write envelopes atomically: all temp files, then each ``fsync``, then the renames.

        One batch shares the file system's journal commits, which is what makes a burst of
        spilled envelopes cheap; each file still becomes visible only complete and synced.
        """
        pending = []
        try:
            for data, category, ts_ns in entries:
                seq = next(self._seq)
                key = make_key(ts_ns or wall_ns(), self._pid, seq)
                name = f"{key}-{len(data)}.{_safe_category(category)}{SUFFIX}"
                tmp = os.path.join(self.directory, f"{TMP_PREFIX}{self._pid}-{self._token}-{seq}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                pending.append((fd, tmp, name, len(data)))
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            for fd, _tmp, _name, _size in pending:
                os.fsync(fd)
        except BaseException:
            for fd, tmp, _name, _size in pending:
                _close(fd)
                _unlink(tmp)
            raise
        names = []
        for fd, tmp, name, _size in pending:
            _close(fd)
            os.rename(tmp, os.path.join(self.directory, name))
            names.append(name)
        with self._lock:
            for _fd, _tmp, name, size in pending:
                bisect.insort(self._known, name)
                if self._added_during_scan is not None:
                    self._added_during_scan.append(name)
                self._known_bytes += size
            over = len(self._known) > self.max_count or self._known_bytes > self.max_bytes
        if over:
            self._enforce_caps()
        return names

    def _enforce_caps(self) -> None:
        self.scan()
        with self._lock:
            victims = []
            count, size = len(self._known), self._known_bytes
            i = 0
            while (count > self.max_count or size > self.max_bytes) and i < len(self._known) - 1:
                victims.append(self._known[i])
                parsed = _parse_name(self._known[i])
                count -= 1
                size -= parsed[1] if parsed else 0
                i += 1
        for name in victims:
            self._evict(name)

    def _evict(self, name: str) -> None:
        parsed = _parse_name(name)
        claim = self._claim_path(name)
        try:
            os.rename(os.path.join(self.directory, name), claim)
        except OSError:
            self._forget(name)
            return  # someone else took it
        _unlink(claim)
        self._forget(name)
        self.on_evict(reports.CACHE_OVERFLOW, parsed[2] if parsed else "error", 1)

    def _forget(self, name: str) -> None:
        with self._lock:
            i = bisect.bisect_left(self._known, name)
            if i < len(self._known) and self._known[i] == name:
                del self._known[i]
                parsed = _parse_name(name)
                self._known_bytes -= parsed[1] if parsed else 0

    # --- scanning -----------------------------------------------------------------------
    def scan(self) -> int:
        """Re-read the directory: recover stale claims, drop expired and stray files."""
        now = wall_ns() / 1e9
        with self._lock:
            self._scans_running += 1
            if self._added_during_scan is None:
                self._added_during_scan = []
        waiting: List[str] = []
        expired: List[str] = []
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            entries = []
        for entry in entries:
            name = entry.name
            if not _is_regular(entry):
                continue  # a directory, symlink, socket...: not ours, left alone
            if name.startswith(TMP_PREFIX):
                self._maybe_remove_stray_tmp(entry, now)
                continue
            if name.startswith(DONE_PREFIX):
                _unlink(entry.path)  # left by a process that ended before deleting it
                continue
            if name.startswith(CORRUPT_PREFIX):
                self._maybe_remove_old(entry, now, self.max_age)
                continue
            if CLAIM in name:
                base = self._maybe_recover(name, entry, now)
                if base is None:
                    continue
                name = base
            parsed = _parse_name(name)
            if parsed is None:
                continue
            if now - key_time(parsed[0]) > self.max_age:
                expired.append(name)
            else:
                waiting.append(name)
        waiting.sort()
        with self._lock:
            added = self._added_during_scan or []
            self._scans_running -= 1
            if not self._scans_running:
                self._added_during_scan = None
            if added:
                waiting = sorted(set(waiting).union(added))
            self._known = waiting
            self._known_bytes = sum((_parse_name(n) or ("", 0, ""))[1] for n in waiting)
            self._last_scan = monotonic()
            self._scanned_once = True
        for name in expired:
            self._evict(name)
        return len(waiting)

    def _maybe_recover(self, name: str, entry: os.DirEntry, now: float) -> Optional[str]:
        base, _, owner = name.partition(CLAIM)
        pid_s, _, token = owner.partition("-")
        try:
            pid = int(pid_s)
        except ValueError:
            return None
        if pid == self._pid and token == self._token:
            return None  # ours, in flight
        stale = (not pid_alive(pid)) or pid == self._pid
        if not stale:
            try:
                stale = now - entry.stat().st_mtime > self.stale_claim_after
            except OSError:
                return None
        if not stale:
            return None
        try:
            os.rename(os.path.join(self.directory, name), os.path.join(self.directory, base))
        except OSError:
            return None  # another process recovered it first
        return base

    def _maybe_remove_stray_tmp(self, entry: os.DirEntry, now: float) -> None:
        parts = entry.name[len(TMP_PREFIX) :].split("-")
        try:
            pid = int(parts[0])
        except (ValueError, IndexError):
            return
        if pid == self._pid and len(parts) > 1 and parts[1] == self._token:
            return
        try:
            old = now - entry.stat().st_mtime > self.stale_claim_after
        except OSError:
            return
        if old or not pid_alive(pid):
            _unlink(entry.path)

    def _maybe_remove_old(self, entry: os.DirEntry, now: float, age: float) -> None:
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime > age:
                _unlink(entry.path)
        except OSError:
            pass

    # --- reading ------------------------------------------------------------------------
    def _claim_path(self, name: str) -> str:
        return os.path.join(self.directory, f"{name}{CLAIM}{self._pid}-{self._token}")

    def claim(self, is_limited: Limited) -> Tuple[Optional[Claim], Set[str]]:
        """Take the oldest waiting envelope whose category is not limited."""
        with self._lock:
            due = not self._known and (
                not self._scanned_once or monotonic() - self._last_scan >= self.rescan_interval
            )
        if due:
            self.scan()
        skipped: Set[str] = set()
        for name in self._candidates():
            parsed = _parse_name(name)
            if parsed is None:
                self._forget(name)
                continue
            key, _size, category = parsed
            if is_limited(category):
                skipped.add(category)
                continue
            path = self._claim_path(name)
            try:
                os.rename(os.path.join(self.directory, name), path)
            except OSError:
                self._forget(name)  # another process claimed it
                continue
            self._forget(name)
            data = self._read_claimed(name, path)
            if data is None:
                continue
            claim = Claim(key, category, data, path)
            if len(data) != _size:
                self.set_aside(claim, f"{len(data)} bytes, its name says {_size}")
                continue
            return claim, skipped
        return None, skipped

    def _read_claimed(self, name: str, path: str) -> Optional[bytes]:
        """The bytes of a claimed file; None when it is not a regular file (renamed back and
        left alone) or cannot be read."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            self._unclaim(name, path)
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                self._unclaim(name, path)
                return None
            os.utime(path)  # the claim's age starts now (stale-claim detection)
            chunks: List[bytes] = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        except OSError:
            self._unclaim(name, path)
            return None
        finally:
            _close(fd)

    def _unclaim(self, name: str, path: str) -> None:
        """Give back a claimed name that cannot be sent now (it is not rescanned as ours)."""
        try:
            os.rename(path, os.path.join(self.directory, name))
        except OSError:
            pass

    def set_aside(self, claim: Claim, why: str) -> None:
        """A claimed file that is not a valid envelope: never sent; renamed to
        ``.corrupt-<name>`` (deleted after ``max_age``) and reported to ``on_corrupt``."""
        if not claim.path:
            return
        name = os.path.basename(claim.path).partition(CLAIM)[0]
        try:
            os.rename(claim.path, os.path.join(self.directory, CORRUPT_PREFIX + name))
        except OSError:
            _unlink(claim.path)
        if self.on_corrupt is not None:
            self.on_corrupt(name, claim.category, why)

    def _candidates(self) -> Iterator[str]:
        """Waiting names, oldest first, read in small slices (no copy of a long list)."""
        start = 0
        while True:
            with self._lock:
                chunk = self._known[start : start + 64]
            if not chunk:
                return
            yield from chunk
            start += 64 - self._shift(chunk)

    def _shift(self, chunk: List[str]) -> int:
        """How many of ``chunk`` left the list (claimed or forgotten) while we looked."""
        with self._lock:
            return sum(1 for n in chunk if not self._has(n))

    def _has(self, name: str) -> bool:
        i = bisect.bisect_left(self._known, name)
        return i < len(self._known) and self._known[i] == name

    def ack(self, claim: Claim) -> None:
        """Sent (or dropped): retire the claimed file; :meth:`collect` deletes it later.

        A rename is atomic and cheap where ``unlink`` of a freshly synced file can take
        milliseconds; a retired file is never sent again, even if the process dies now.
        """
        if not claim.path:
            return
        done = os.path.join(self.directory, DONE_PREFIX + os.path.basename(claim.path))
        try:
            os.rename(claim.path, done)
        except OSError:
            _unlink(claim.path)
            return
        with self._lock:
            self._done.append(done)

    discard = ack

    def collect(self) -> None:
        """Delete retired files (called when the backlog is drained, and at close)."""
        with self._lock:
            done, self._done = self._done, []
        for path in done:
            _unlink(path)

    def release(self, claim: Claim) -> None:
        """Not sent this time: put it back under its original name (its place in order)."""
        if not claim.path:
            return
        base = os.path.basename(claim.path).partition(CLAIM)[0]
        try:
            os.rename(claim.path, os.path.join(self.directory, base))
        except OSError:
            return
        with self._lock:
            bisect.insort(self._known, base)
            if self._added_during_scan is not None:
                self._added_during_scan.append(base)
            self._known_bytes += len(claim.data)

    def remove(self, name: str) -> bool:
        """Delete the waiting envelope ``name`` (delivered another way) if nobody claimed it."""
        path = self._claim_path(name)
        try:
            os.rename(os.path.join(self.directory, name), path)
        except OSError:
            return False
        _unlink(path)
        self._forget(name)
        return True

    def __len__(self) -> int:
        return len(self._known)

    def has_work(self) -> bool:
        """True when envelopes are known to wait, or a rescan is due."""
        if self._known:
            return True
        return not self._scanned_once or monotonic() - self._last_scan >= self.rescan_interval

    def reinit_after_fork(self) -> None:
        """In a forked child: own lock, pid and token; the parent's claims stay the parent's."""
        self._init_process_state()


def _is_regular(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
