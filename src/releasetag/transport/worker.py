"""One background thread draining a bounded queue of jobs; the app never waits on it.

Besides queued jobs the thread runs ``idle`` work (retrying the backlog) whenever it was
``poke``-d and its timer is due; ``idle`` returns the seconds until it wants to run again,
or None when it has nothing left to do.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import Callable, Deque, Optional

logger = logging.getLogger("releasetag.transport")

Job = Callable[[], None]
Idle = Callable[[], Optional[float]]


class BackgroundWorker:
    """Runs submitted jobs in order on a daemon thread started on first use."""

    def __init__(self, queue_size: int = 1000, name: str = "releasetag.worker",
                 idle: Optional[Idle] = None) -> None:
        self.queue_size = queue_size
        self.name = name
        self.idle = idle
        self._init_state()
        self._closed = False

    def _init_state(self) -> None:
        # An RLock: a signal handler (SIGTERM flush) may run while the main thread holds it.
        self._cond = threading.Condition(threading.RLock())
        self._queue: Deque[Job] = deque()
        self._thread: Optional[threading.Thread] = None
        self._pid = os.getpid()
        self._busy = False
        self._idle_at: Optional[float] = None  # monotonic time the idle work is due

    @property
    def pending(self) -> int:
        return len(self._queue) + (1 if self._busy else 0)

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (job not queued) when the queue is full or closed."""
        with self._cond:
            if self._closed or len(self._queue) >= self.queue_size:
                return False
            self._queue.append(job)
            self._ensure_thread()
            self._cond.notify_all()
        return True

    def poke(self, delay: float = 0.0, start: bool = True) -> None:
        """Ask for idle work in ``delay`` seconds (sooner requests win)."""
        with self._cond:
            if self._closed:
                return
            at = time.monotonic() + max(0.0, delay)
            if self._idle_at is None or at < self._idle_at:
                self._idle_at = at
            if start:
                self._ensure_thread()
            self._cond.notify_all()

    def _ensure_thread(self) -> None:
        if self.thread_alive:
            return
        self._pid = os.getpid()
        thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutting down: jobs run in flush() instead
            self._thread = None
            return
        self._thread = thread

    def _next(self) -> Optional[Job]:
        """Wait for the next job (or due idle work); None when closed. Holds the lock."""
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._closed:
                return None
            now = time.monotonic()
            if self._idle_at is not None and self.idle is not None and now >= self._idle_at:
                self._idle_at = None
                return self._run_idle
            self._cond.wait(None if self._idle_at is None else self._idle_at - now)

    def _run_idle(self) -> None:
        delay = self.idle() if self.idle is not None else None
        if delay is not None:
            with self._cond:
                at = time.monotonic() + max(0.0, delay)
                if self._idle_at is None or at < self._idle_at:
                    self._idle_at = at

    def _run(self) -> None:
        while True:
            with self._cond:
                job = self._next()
                if job is None:
                    return
                self._busy = True
            try:
                job()
            except Exception:
                logger.debug("releasetag worker job failed", exc_info=True)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def flush(self, timeout: Optional[float]) -> bool:
        """Wait until the queue is empty and no idle work is due before the deadline.

        Never starts a thread (flush runs at interpreter exit, too): with no live thread
        the jobs run inline on the caller's thread, within the deadline. False when work
        was left (timeout, or a retry scheduled after the deadline).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if not self.thread_alive:
                    return self._drain_inline(deadline)
                if not self._queue and not self._busy:
                    if self._idle_at is None:
                        return True
                    if deadline is not None and self._idle_at > deadline:
                        return False  # next retry is after the deadline: stop waiting
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left if left is None else min(left, 0.5))

    def _drain_inline(self, deadline: Optional[float]) -> bool:
        """Run queued jobs and due idle work on the calling thread (lock held on entry)."""
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return not self._queue and self._idle_at is None
            if self._queue:
                job = self._queue.popleft()
            elif self._idle_at is not None and self.idle is not None:
                if deadline is not None and self._idle_at > deadline:
                    return False
                wait = self._idle_at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                self._idle_at = None
                job = self._run_idle
            else:
                return True
            self._busy = True
            self._cond.release()
            try:
                job()
            except Exception:
                logger.debug("releasetag job failed", exc_info=True)
            finally:
                self._cond.acquire()
                self._busy = False

    def close(self, timeout: Optional[float]) -> bool:
        """Flush, then stop the thread. Jobs submitted afterwards are refused."""
        ok = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return ok

    def drop_pending(self) -> list:
        """Take every queued job out of the queue (they are not run); returns them."""
        with self._cond:
            jobs = list(self._queue)
            self._queue.clear()
            return jobs

    def join(self, timeout: float) -> bool:
        """Wait (bounded) for the thread to end after close(); True when it ended."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(max(0.0, timeout))
        return not thread.is_alive()

    def reinit_after_fork(self) -> None:
        """In a forked child: new lock and condition, no thread, nothing queued."""
        self._init_state()
