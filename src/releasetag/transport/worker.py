"""One background thread draining a bounded queue of jobs; the app never waits on it.

Besides queued jobs the thread runs ``idle`` work (retrying the backlog) whenever it was
``poke``-d and its timer is due; ``idle`` returns the seconds until it wants to run again,
or None when it has nothing left to do.
"""

from __future__ import annotations

import os
import threading
from collections import deque

from releasetag.protocol.log import get_logger, internal_error

from .clock import monotonic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Deque, List, Optional

    Job = Callable[[], None]
    Idle = Callable[[], Optional[float]]

#: the longest a worker sleeps before it looks again (a bound on any timer it is given)
MAX_WAIT = 3600.0


def _delay(seconds: Optional[float]) -> float:
    """``seconds`` as a wait a timer accepts: within ``[0, MAX_WAIT]``, ``nan`` -> 0."""
    if seconds is None or not seconds > 0.0:  # nan, negative, zero
        return 0.0
    return min(float(seconds), MAX_WAIT)


class BackgroundWorker:
    """Runs submitted jobs in order on ``threads`` daemon threads started on first use.

    With more than one thread, jobs start in order but may finish out of order (two
    requests in flight overlap the server's work with ours). Idle work never runs on two
    threads at once.
    """

    def __init__(
        self,
        queue_size: int = 1000,
        name: str = "releasetag.worker",
        idle: Optional[Idle] = None,
        threads: int = 1,
    ) -> None:
        self.queue_size = queue_size
        self.name = name
        self.idle = idle
        self.threads = max(1, int(threads))
        #: whether idle work may run on several threads at once right now
        self.idle_parallel: Callable[[], bool] = lambda: False
        self._init_state()
        self._closed = False
        self._warned = False  # a failure was logged as a warning already

    def _init_state(self) -> None:
        # An RLock: a signal handler (SIGTERM flush) may run while the main thread holds it.
        self._cond = threading.Condition(threading.RLock())
        self._queue: Deque[Job] = deque()
        self._threads: List[threading.Thread] = []
        self._pid = os.getpid()
        self._busy = 0  # jobs running right now
        self._idle_running = 0  # threads running idle work right now
        self._idle_more = False  # the last idle run said more work is waiting
        self._idle_at: Optional[float] = None  # monotonic time the idle work is due

    @property
    def pending(self) -> int:
        return len(self._queue) + self._busy

    @property
    def thread_alive(self) -> bool:
        return self._pid == os.getpid() and any(t.is_alive() for t in self._threads)

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
            at = monotonic() + _delay(delay)
            if self._idle_at is None or at < self._idle_at:
                self._idle_at = at
            if start:
                self._ensure_thread()
            self._cond.notify_all()

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid() and len(self._threads) == self.threads:
            if all(t.is_alive() for t in self._threads):
                return
        if self._pid != os.getpid():
            self._threads = []
        self._pid = os.getpid()
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.threads:
            thread = threading.Thread(
                target=self._run, daemon=True, name=f"{self.name}-{len(self._threads)}"
            )
            try:
                thread.start()
            except RuntimeError:  # interpreter shutting down: jobs run in flush() instead
                return
            self._threads.append(thread)

    def _next(self) -> Optional[Job]:
        """Wait for the next job (or due idle work); None when closed. Holds the lock."""
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._closed:
                return None
            now = monotonic()
            if (
                self._idle_at is not None
                and self.idle is not None
                and now >= self._idle_at
                and self._idle_running < self.threads
            ):
                self._idle_running += 1
                # while there is more and order does not matter, a second thread joins
                if not (
                    self._idle_more and self._idle_running < self.threads and self.idle_parallel()
                ):
                    self._idle_at = None
                return self._run_idle
            self._cond.wait(None if self._idle_at is None else _delay(self._idle_at - now))

    def _run_idle(self) -> None:
        delay = None
        try:
            delay = self.idle() if self.idle is not None else None
        finally:
            with self._cond:
                self._idle_running -= 1
                self._idle_more = delay == 0.0
                if delay is not None:
                    at = monotonic() + _delay(delay)
                    if self._idle_at is None or at < self._idle_at:
                        self._idle_at = at
                self._cond.notify_all()

    def _run(self) -> None:
        """The thread's loop. No exception ends it: a failure is logged once (the first;
        later ones at debug level) and the thread carries on with the next job."""
        while True:
            try:
                with self._cond:
                    job = self._next()
                    if job is None:
                        return
                    self._busy += 1
            except Exception:
                self._failed("waiting for work")
                _pause()  # a failure that repeats must not spin
                continue
            try:
                job()
            except Exception:
                self._failed("a job")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _failed(self, what: str) -> None:
        """Note an exception the thread survived: once as a warning, then at debug level."""
        internal_error(f"releasetag worker: {what} failed")
        if not self._warned:
            self._warned = True
            try:
                get_logger("releasetag.transport").warning(
                    "%s: %s failed (the thread carries on; details at debug level on "
                    "releasetag.internal)",
                    self.name,
                    what,
                )
            except Exception:  # logging itself failed (interpreter shutdown)
                pass

    def flush(self, timeout: Optional[float]) -> bool:
        """Wait until the queue is empty and no idle work is due before the deadline.

        Never starts a thread (flush runs at interpreter exit, too): with no live thread
        the jobs run inline on the caller's thread, within the deadline. False when work
        was left (timeout, or a retry scheduled after the deadline).
        """
        deadline = None if timeout is None else monotonic() + timeout
        with self._cond:
            while True:
                if not self.thread_alive:
                    return self._drain_inline(deadline)
                if not self._queue and not self._busy:
                    if self._idle_at is None:
                        return True
                    if deadline is not None and self._idle_at > deadline:
                        return False  # next retry is after the deadline: stop waiting
                left = None if deadline is None else deadline - monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left if left is None else min(left, 0.5))

    def _drain_inline(self, deadline: Optional[float]) -> bool:
        """Run queued jobs and due idle work on the calling thread (lock held on entry)."""
        while True:
            if deadline is not None and monotonic() >= deadline:
                return not self._queue and self._idle_at is None
            if self._queue:
                job = self._queue.popleft()
            elif self._idle_at is not None and self.idle is not None:
                if deadline is not None and self._idle_at > deadline:
                    return False
                wait = self._idle_at - monotonic()
                if wait > 0:
                    self._cond.wait(_delay(wait))
                    continue
                self._idle_at = None
                self._idle_running += 1
                job = self._run_idle
            else:
                return True
            self._busy += 1
            self._cond.release()
            try:
                job()
            except Exception:
                self._failed("a job run by flush")
            finally:
                self._cond.acquire()
                self._busy -= 1

    def close(self, timeout: Optional[float]) -> bool:
        """Flush, then stop the thread. Jobs submitted afterwards are refused."""
        ok = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return ok

    def take(self, n: int) -> list:
        """Take up to ``n`` queued jobs for the caller to run itself (batching)."""
        with self._cond:
            jobs: List[Job] = []
            while self._queue and len(jobs) < n:
                jobs.append(self._queue.popleft())
            return jobs

    def drop_pending(self) -> list:
        """Take every queued job out of the queue (they are not run); returns them."""
        with self._cond:
            jobs = list(self._queue)
            self._queue.clear()
            return jobs

    def join(self, timeout: float) -> bool:
        """Wait (bounded, ``timeout`` in all) for the threads to end after close()."""
        deadline = monotonic() + max(0.0, timeout)
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - monotonic()))
        return not self.thread_alive

    def reinit_after_fork(self) -> None:
        """In a forked child: new lock and condition, no thread, nothing queued."""
        self._init_state()


def _pause() -> None:
    import time  # loaded already (by threading); looked up only after a failure

    time.sleep(0.05)
