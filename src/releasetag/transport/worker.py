"""One background thread draining a bounded queue of jobs; the app never waits on it."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import Callable, Deque, Optional

logger = logging.getLogger("releasetag.transport")

Job = Callable[[], None]


class BackgroundWorker:
    """Runs submitted jobs in order on a daemon thread started on first use."""

    def __init__(self, queue_size: int = 1000, name: str = "releasetag.worker") -> None:
        self.queue_size = queue_size
        self.name = name
        self._queue: Deque[Job] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._thread: Optional[threading.Thread] = None
        self._pid = os.getpid()
        self._busy = False
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._queue) + (1 if self._busy else 0)

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (job not queued) when the queue is full or closed."""
        with self._cond:
            if self._closed or len(self._queue) >= self.queue_size:
                return False
            self._queue.append(job)
            self._ensure_thread()
            self._cond.notify_all()
        return True

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutting down: jobs run in flush() instead
            self._thread = None
            return
        self._thread = thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue and self._closed:
                    return
                job = self._queue.popleft()
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
        """Wait until every queued job has run; False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if self._queue and (self._thread is None or not self._thread.is_alive()):
                self._ensure_thread()
                if self._thread is None:  # cannot start threads now: run inline, bounded
                    return self._drain_inline(deadline)
            while self._queue or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _drain_inline(self, deadline: Optional[float]) -> bool:
        while self._queue:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            job = self._queue.popleft()
            self._cond.release()
            try:
                job()
            except Exception:
                logger.debug("releasetag job failed", exc_info=True)
            finally:
                self._cond.acquire()
        return True

    def close(self, timeout: Optional[float]) -> bool:
        """Flush, then stop the thread. Jobs submitted afterwards are refused."""
        ok = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return ok

    def drop_pending(self) -> int:
        """Forget every queued job (e.g. in a forked child); returns how many."""
        with self._cond:
            n = len(self._queue)
            self._queue.clear()
            return n

    def reinit_after_fork(self) -> None:
        """In a forked child: new lock and condition, no thread, nothing queued."""
        self._cond = threading.Condition(threading.Lock())
        self._queue = deque()
        self._thread = None
        self._busy = False
        self._pid = os.getpid()
