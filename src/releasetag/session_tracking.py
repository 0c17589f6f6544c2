"""Release health: sessions, in Sentry's wire format (docs/protocol.md §4).

Two modes (``session_mode``):

- ``"request"`` (the default): each WSGI/Flask request and each Celery task is one session.
  Its outcome (exited, errored, crashed) is counted per start minute and sent as one
  ``sessions`` item of aggregates every ``session_flush_interval`` seconds, at ``flush()``,
  ``close()``, process exit and in forked children. A request costs a small object and one
  counter increment; the counts are bounded by minutes x (release, environment).
- ``"application"``: the process is one session (scripts, CLIs, cron jobs, batch workers),
  sent as ``session`` updates: with each error event (in the same envelope) and when it ends.

A session is *errored* when an exception, or an event of level error or fatal, was captured
during it, and *crashed* when an unhandled exception (``mechanism.handled`` false) was.
Without a release there are no sessions (Sentry drops them); ``"off"`` or
``auto_session_tracking=False`` turns tracking off.
"""

from __future__ import annotations

import threading
import time

from .protocol.envelope import Envelope, Item
from .protocol.log import get_logger, internal_error
from .protocol.session_fields import OUTCOMES, wire_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

REQUEST = "request"
APPLICATION = "application"
OFF = "off"
MODES = (REQUEST, APPLICATION, OFF)

# outcome slots of an aggregate bucket, in the order of ``protocol.sessions.OUTCOMES``
EXITED, ERRORED, CRASHED, ABNORMAL = 0, 1, 2, 3


class RequestSession:
    """One request or task: its start minute and what was captured during it."""

    __slots__ = ("minute", "errors", "crashed")

    def __init__(self, minute: int) -> None:
        self.minute = minute  # unix minutes
        self.errors = 0
        self.crashed = False


class ProcessSession:
    """The application-mode session: one per process, updated and sent as ``session`` items."""

    __slots__ = ("sid", "did", "started", "seq", "errors", "status", "sent_init", "dirty")

    def __init__(self, started: float, did: Optional[str] = None) -> None:
        import uuid  # only application mode pays for the import

        self.sid = str(uuid.uuid4())
        self.did = did
        self.started = started
        self.seq = 0
        self.errors = 0
        self.status = "ok"
        self.sent_init = False
        self.dirty = True  # changed since the last update was made

    def payload(self, attrs: Dict[str, str], now: float) -> Dict[str, Any]:
        """The next update of this session (``init`` true on the first one sent)."""
        self.seq += 1
        data: Dict[str, Any] = {
            "sid": self.sid,
            "init": not self.sent_init,
            "started": wire_time(self.started),
            "timestamp": wire_time(now),
            "duration": round(max(0.0, now - self.started), 3),
            "seq": self.seq,
            "errors": self.errors,
            "status": self.status,
            "attrs": dict(attrs),
        }
        if self.did:
            data["did"] = self.did
        self.sent_init = True
        self.dirty = False
        return data


class SessionTracker:
    """A client's sessions: request-mode aggregates and the application-mode session.

    ``send`` queues an envelope through the client's transport (the events' delivery: spool,
    retries, rate limits of the ``session`` category).
    """

    def __init__(
        self,
        mode: str,
        release: Optional[str],
        environment: Optional[str],
        send: Callable[[Envelope], Any],
        flush_interval: float = 60.0,
        user: Optional[Callable[[], Optional[str]]] = None,
        prepare: Optional[Callable[[], None]] = None,
    ) -> None:
        self.mode = mode if release else OFF
        if release is None and mode != OFF:
            get_logger().debug("no release: sessions are not tracked")
        self.attrs: Dict[str, str] = {"release": release or ""}
        if environment:
            self.attrs["environment"] = environment
        self.send = send
        self.flush_interval = max(0.01, float(flush_interval))
        self.user = user
        self.prepare = prepare  # called on the app thread before the flusher thread starts
        self.requests = self.mode == REQUEST
        self._lock = threading.Lock()
        self._buckets: Dict[int, List[int]] = {}
        self._process: Optional[ProcessSession] = None
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._closed = False
        if self.mode == APPLICATION:
            self.start_session()

    # --- request mode (hot path: no locks until the end, no allocation but one object) --
    def start_request(self) -> Optional[RequestSession]:
        """A session for one request or task, or None when request mode is off."""
        if not self.requests:
            return None
        if self._thread is None:
            self._start_flusher()
        return RequestSession(int(time.time()) // 60)

    def end_request(self, session: RequestSession) -> None:
        """Count the request's outcome in its start minute's bucket."""
        if session.crashed:
            slot = CRASHED
        elif session.errors:
            slot = ERRORED
        else:
            slot = EXITED
        with self._lock:
            bucket = self._buckets.get(session.minute)
            if bucket is None:
                bucket = self._buckets[session.minute] = [0, 0, 0, 0]
            bucket[slot] += 1

    # --- captures ---------------------------------------------------------------------
    def on_error(self, crashed: bool, request: Optional[RequestSession]) -> Optional[Item]:
        """An error (``crashed``: unhandled) was captured. Updates the request's session, or
        the process session; returns the ``session`` update to send with the event."""
        if request is not None:
            request.errors += 1
            if crashed:
                request.crashed = True
            return None
        process = self._process
        if process is None:
            return None
        process.errors += 1
        process.dirty = True
        if crashed:
            process.status = "crashed"  # final: later updates keep it
        return self._update_item(process)

    def _update_item(self, process: ProcessSession) -> Item:
        if self.user is not None and process.did is None:
            process.did = self.user()
        return Item.from_json("session", process.payload(self.attrs, time.time()))

    # --- application mode -------------------------------------------------------------
    def start_session(self) -> None:
        """Start a process session (ending the one open before, as exited)."""
        if self.mode == OFF:
            return
        self.end_session()
        did = self.user() if self.user is not None else None
        self._process = ProcessSession(time.time(), did)

    def end_session(self, status: str = "exited") -> None:
        """End the process session (if one is open) with ``status`` and queue its update."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.status == "crashed":
            if not process.dirty:
                return  # the crash update went out with the crash event
        else:
            process.status = status
        self.send(Envelope({}, [self._update_item(process)]))

    # --- flushing ---------------------------------------------------------------------
    def _start_flusher(self) -> None:
        if self.prepare is not None:
            try:
                self.prepare()  # the flusher thread sends: imports happen here, not there
            except Exception:
                internal_error("preparing delivery for sessions failed")
        with self._lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._run, name="releasetag.sessions", daemon=True)
            self._thread = thread
        try:
            thread.start()
        except RuntimeError:  # at interpreter shutdown: flush() at exit still sends
            pass

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self.flush_interval):
            try:
                self.flush()
            except Exception:
                internal_error("flushing sessions failed")

    def flush(self) -> None:
        """Queue the request sessions counted since the last flush as one ``sessions`` item
        (one (release, environment) per tracker; a bucket a minute)."""
        with self._lock:
            buckets, self._buckets = self._buckets, {}
        if not buckets:
            return
        aggregates = []
        for minute in sorted(buckets):
            counts = buckets[minute]
            entry: Dict[str, Any] = {"started": wire_time(minute * 60.0)}
            for key, count in zip(OUTCOMES, counts):
                if count:
                    entry[key] = count
            aggregates.append(entry)
        item = Item.from_json("sessions", {"attrs": dict(self.attrs), "aggregates": aggregates})
        self.send(Envelope({}, [item]))

    def close(self, status: str = "exited") -> None:
        """Stop the flusher, end the process session with ``status``, queue the counts."""
        self._closed = True
        self.requests = False  # nothing is counted after the end
        self._stop.set()
        self.end_session(status)
        self.flush()

    def reinit_after_fork(self) -> None:
        """In a forked child: no thread, no counts and no process session of the parent's
        (the parent sends those); the child counts its own requests from now on."""
        self._lock = threading.Lock()
        self._buckets = {}
        self._process = None
        self._thread = None
        self._stop = threading.Event()


def error_outcome(event: Dict[str, Any]) -> Tuple[bool, bool]:
    """(errored, crashed) for a ready event: an exception or level error/fatal is an error;
    an exception whose mechanism says ``handled: false`` is a crash."""
    values = event.get("exception")
    if isinstance(values, dict):
        values = values.get("values")
    crashed = False
    errored = False
    if isinstance(values, list) and values:
        errored = True
        for value in values:
            mechanism = value.get("mechanism") if isinstance(value, dict) else None
            if isinstance(mechanism, dict) and mechanism.get("handled") is False:
                crashed = True
                break
    if event.get("level") in ("error", "fatal"):
        errored = True
    return errored, crashed
