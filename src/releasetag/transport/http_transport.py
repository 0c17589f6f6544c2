"""The HTTP transport: envelopes posted by one background thread over a keep-alive session.

Path of an event: ``capture_event`` (app thread: queue it, or spill it to the spool when
the queue is full) -> worker thread: serialize, post. An envelope the server did not
accept goes to the backlog (the disk spool when ``spool_dir`` is set, else a bounded
memory backlog) and is retried by the same thread, oldest first, following the
:class:`~releasetag.transport.retry.RetryPolicy` and the server's rate limits.
"""

from __future__ import annotations

import json
import os
import threading

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import ENVELOPE_CONTENT_TYPE, Envelope, Item
from releasetag.protocol.log import get_logger, internal_error

from .. import lifecycle, notices, trim
from ..event import utc_timestamp
from . import reports
from .backlog import MemoryBacklog
from .base import SendResult, Transport
from .clock import monotonic, wall_ns
from .connection import Connection
from .jobs import EnvelopeJob, EventJob, SpillJob, payloads_of
from .ratelimit import RateLimiter, parse_retry_after
from .reports import DeliveryStats
from .retry import DEFAULT_POLICY, RETRY, SENT, RetryPolicy
from .worker import BackgroundWorker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

    from ..options import Options
    from ..types import Event

_LOGGER = "releasetag.transport"  # get_logger(_LOGGER): logging loads at first use

_DROP_HINTS = {
    400: "the server rejected the envelope as invalid",
    401: "the DSN's public key was not accepted: check the DSN",
    403: "the DSN's project refused the event: check the DSN and the project's settings",
    413: "the envelope is too large for the server",
}


def make_backlog(
    options: Any,
    on_evict: Callable[[str, str, int], None],
    evict_reason: Callable[[str], str],
    on_corrupt: Optional[Callable[[str, str, str], None]] = None,
) -> Any:
    """The disk spool when ``spool_dir`` is set, else a memory backlog."""
    if options.spool_dir:
        from .spool import DiskSpool

        try:
            return DiskSpool(
                options.spool_dir,
                max_count=options.spool_max_count,
                max_bytes=options.spool_max_bytes,
                max_age=options.spool_max_age,
                on_evict=on_evict,
                stale_claim_after=max(600.0, 10 * float(options.http_timeout)),
                on_corrupt=on_corrupt,
            )
        except OSError as exc:
            get_logger(_LOGGER).warning(
                "cannot use spool_dir %s (%s): undelivered events are kept in memory only",
                options.spool_dir,
                exc.strerror or exc,
            )
    return MemoryBacklog(
        max_count=options.transport_queue_size, on_evict=on_evict, evict_reason=evict_reason
    )


class HttpTransport(Transport):
    """Posts envelopes to the DSN's envelope endpoint without blocking the caller."""

    options: Options

    def __init__(self, options: Options, dsn: Optional[Dsn] = None) -> None:
        super().__init__(options)
        self.dsn = dsn or Dsn.parse(options.dsn or "")
        self.policy: RetryPolicy = options.retry_policy or DEFAULT_POLICY
        self.rate_limiter = RateLimiter(max_seconds=self.policy.retry_after_max)
        self.backlog = make_backlog(options, self._on_evict, self._evict_reason, self._on_corrupt)
        self.worker = BackgroundWorker(
            options.transport_queue_size,
            idle=self._drain_backlog,
            threads=options.transport_threads,
        )
        # Envelopes that failed (and leftovers of an earlier process) drain strictly in
        # order, one at a time; a spill from a burst may drain on every sender thread.
        self.worker.idle_parallel = lambda: not self._recovering
        self.spooler: Optional[BackgroundWorker] = None
        if self.backlog.durable:
            self.spooler = BackgroundWorker(options.spool_max_count, name="releasetag.spooler")
        self.last_result: Optional[SendResult] = None
        self._auth = self.dsn.auth_header()
        self._url = self.dsn.envelope_url
        self._sdk: Optional[Dict[str, Any]] = None  # set_sdk_info()
        self.on_result: List[Callable[[SendResult], None]] = []
        self._init_process_state()
        lifecycle.track(self)
        if self.backlog.durable and self.backlog.scan():
            self._recovering = True  # envelopes left by an earlier process: send them first
            self._prepare_sending()  # imports now, not on the sender thread
            self.worker.poke()

    def _init_process_state(self) -> None:
        self._failures = 0  # consecutive failed attempts
        self._retry_at = 0.0  # monotonic time before which nothing is posted
        self._recovering = False  # the backlog goes first: new envelopes queue behind it
        self.connection = Connection(
            self._url,
            {
                "User-Agent": self._auth.rsplit("=", 1)[-1],
                "X-Sentry-Auth": self._auth,
                "Content-Type": ENVELOPE_CONTENT_TYPE,
            },
            maxsize=self.worker.threads,
            http_proxy=self.options.http_proxy,
            https_proxy=self.options.https_proxy,
            ca_certs=self.options.ca_certs,
        )
        # per sending thread: the envelope it is posting, and the spool name of a copy
        # made by close() while that post was unanswered
        self._inflight: Dict[int, Tuple[bytes, str, int]] = {}
        self._inflight_spooled: Dict[int, str] = {}
        self._poked_pid = -1  # the first capture prepares the connection
        self._preparing: Optional[int] = None  # the thread running the first-use imports
        self._flush_deadline: Optional[float] = None
        self._warned: set = set()

    # --- called on the app thread -------------------------------------------------------
    def capture_event(self, event: Event) -> bool:
        """Queue ``event`` for delivery; False when it was dropped (and counted)."""
        self._first_use_in_process()
        job = EventJob(self, event, wall_ns())
        if self.worker.submit(job):
            return True
        return self._spill(job)

    def capture_event_with(self, event: Event, items: List[Item]) -> bool:
        """Queue ``event`` and ``items`` (a session update) in one envelope."""
        self._first_use_in_process()
        job = EventJob(self, event, wall_ns(), tuple(items))
        if self.worker.submit(job):
            return True
        return self._spill(job)

    def send_envelope(self, envelope: Envelope) -> bool:
        """Queue a ready envelope (sessions, attachments, ...)."""
        self._first_use_in_process()
        category = next(
            (i.data_category for i in envelope.items if i.type != "client_report"), "internal"
        )
        job = EnvelopeJob(self, envelope.serialize(), category, wall_ns())
        if self.worker.submit(job):
            return True
        return self._spill(job)

    def prepare(self) -> None:
        self._first_use_in_process()

    def _first_use_in_process(self) -> None:
        """The first event of this process (or fork child) loads what sending needs.

        Safe against re-entry: a capture from a signal handler that interrupts these imports
        on the same thread does not import again (it would get a half-initialised module);
        its envelope is queued, and the sender thread waits for the imports to finish."""
        pid = os.getpid()
        if self._poked_pid == pid:
            return
        ident = threading.get_ident()
        if self._preparing == ident:
            return
        self._preparing = ident
        try:
            self._prepare_sending()
        finally:
            self._preparing = None
        self._poked_pid = pid
        if self.backlog.durable:
            self.worker.poke()

    def _prepare_sending(self) -> None:
        """Import what the sender thread needs (HTTP modules, gzip, random, logging).

        Called on the app thread at the first capture (init() stays cheap), before a
        sender thread runs: a sender never imports while the app may fork.
        """
        self.connection.prepare()
        import gzip  # noqa: F401 - post() compresses with it
        import random  # noqa: F401 - used by the retry policy's jitter

        from ..protocol import jsonfmt  # noqa: F401 - trim.encode_event writes with it

        get_logger(_LOGGER)  # loads logging: the sender logs what the server answered

    def _spill(self, job: Any) -> bool:
        """The memory queue is full: keep the envelope on disk, or count it as dropped.

        The disk write (and the serialization) happen on the spooler thread, so a burst
        does not make the app wait for fsync; only when the spooler is behind by
        ``spool_max_count`` envelopes does the app thread write them itself.
        """
        if self.spooler is None:
            data = getattr(job, "data", None)
            if isinstance(data, bytes):  # a ready envelope: logs count their items
                self.stats.record_lost_envelope(reports.QUEUE_OVERFLOW, job.category, data)
            else:
                self.stats.record_lost(reports.QUEUE_OVERFLOW, job.category)
            return False
        if self.spooler.submit(SpillJob(self, job)):
            return True
        return self._write_spill(job)

    def _write_spills(self, jobs: List[Any]) -> None:
        """Spooler thread: write a batch of spilled envelopes (one journal commit)."""
        if self._keep(payloads_of(jobs), reports.QUEUE_OVERFLOW):
            self.worker.poke()

    def _write_spill(self, job: Any) -> bool:
        if not self._keep(payloads_of([job]), reports.QUEUE_OVERFLOW):
            return False
        self.worker.poke()
        return True

    def _keep(self, payloads: List[Tuple[bytes, str, int]], lost_reason: str) -> bool:
        """Put envelopes into the backlog. When the spool cannot be written, warn once and
        count them as lost for ``lost_reason``; False then."""
        if not payloads:
            return False
        try:
            if len(payloads) == 1:
                self.backlog.put(*payloads[0])
            else:
                self.backlog.put_many(payloads)
        except OSError as exc:
            self._warn_once(
                "spool",
                f"cannot write to the spool {self.options.spool_dir}: "
                f"{exc.strerror or exc}; {len(payloads)} envelope(s) "
                "dropped",
            )
            for data, category, _ts in payloads:
                self.stats.record_lost_envelope(lost_reason, category, data)
            return False
        if self.backlog.durable:
            self.stats.record_spooled(len(payloads))
        return True

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until everything queued was delivered, within ``timeout`` seconds."""
        self._queue_client_report()
        deadline = None if timeout is None else monotonic() + timeout
        self._flush_deadline = deadline
        try:
            if self.spooler is not None and not self.spooler.flush(timeout):
                return False
            left = None if deadline is None else max(0.0, deadline - monotonic())
            return self.worker.flush(left)
        finally:
            self._flush_deadline = None

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flush within ``timeout``, keep what is left in the spool, stop the thread."""
        lifecycle.untrack(self)
        start = monotonic()
        ok = self.flush(timeout)
        self.worker.close(0)
        if self.spooler is not None:
            self.spooler.close(0)
        self._keep_leftovers()
        self.backlog.collect()
        left = 0.1 if timeout is None else max(0.0, min(0.1, timeout - (monotonic() - start)))
        self.worker.join(left)
        if not self.worker.thread_alive:
            self.connection.close()
        return ok

    def _keep_leftovers(self) -> None:
        """After a flush that timed out: spool what is still queued, or count it lost."""
        jobs = self.worker.drop_pending()
        if self.spooler is not None:
            jobs += self.spooler.drop_pending()
        inflight = dict(self._inflight)
        durable = self.backlog.durable
        payloads = payloads_of([job for job in jobs if hasattr(job, "payload")])
        if durable and payloads:
            try:
                self.backlog.put_many(payloads)  # one batch: exit stays quick
                self.stats.record_spooled(len(payloads))
                payloads = []
            except OSError:
                pass
        for data, category, _ts in payloads:
            self.stats.record_lost_envelope(self._evict_reason(category), category, data)
        if durable:
            # Requests still unanswered (hung server): keep a copy; if the answer still
            # arrives before the process ends, the copy is removed again.
            for ident, payload in inflight.items():
                try:
                    self._inflight_spooled[ident] = self.backlog.put(*payload)
                except OSError:
                    pass
        if not durable:
            for _key, category, data in self.backlog.take_all():
                self.stats.record_lost_envelope(self._evict_reason(category), category, data)

    def is_idle(self) -> bool:
        return (
            self.worker.pending == 0
            and (self.spooler is None or self.spooler.pending == 0)
            and not self.backlog.has_work()
            and not self.stats.has_unreported()
        )

    def set_sdk_info(self, sdk: Dict[str, Any]) -> None:
        self._sdk = {"name": sdk["name"], "version": sdk["version"]}

    def delivery_stats(self) -> Dict[str, Any]:
        """Counts: sent, queued (memory), backlog (waiting for a retry), spooled, dropped."""
        snap = self.stats.snapshot()
        snap["queued"] = self.worker.pending + (self.spooler.pending if self.spooler else 0)
        snap["backlog"] = len(self.backlog)
        snap["spool_dir"] = self.options.spool_dir
        return snap

    # --- on the worker thread -----------------------------------------------------------
    def _event_bytes(self, event: Event, items: Any = ()) -> Optional[bytes]:
        """The event's envelope; None (counted as lost) if the SDK fails to write it."""
        try:
            return self._envelope_of(event, items)
        except Exception:
            internal_error("writing an event envelope failed")
            self.stats.record_lost(reports.INTERNAL_SDK_ERROR, "error")
            return None

    def _envelope_of(self, event: Event, items: Any = ()) -> bytes:
        payload = trim.encode_event(event, self.options.max_event_bytes)
        headers: Dict[str, Any] = {"event_id": event.get("event_id")}
        if self._sdk:
            headers["sdk"] = self._sdk
        return Envelope(
            headers,
            [Item({"type": "event", "content_type": "application/json"}, payload), *items],
        ).serialize()

    def _blocked(self, category: str) -> bool:
        return (
            self._recovering
            or monotonic() < self._retry_at
            or self.rate_limiter.is_limited(category)
        )

    def _dispatch(self, data: bytes, category: str, ts_ns: int) -> None:
        """Send now, or put into the backlog behind older envelopes."""
        if self._blocked(category):
            self._to_backlog(data, category, ts_ns)
            return
        ident = threading.get_ident()
        self._inflight[ident] = (data, category, ts_ns)
        try:
            outcome, result = self._attempt(data, category)
        finally:
            self._inflight.pop(ident, None)
        spooled = self._inflight_spooled.pop(ident, None)
        if outcome == RETRY:
            if spooled is None:
                self._to_backlog(data, category, ts_ns)
        elif spooled is not None:
            self.backlog.remove(spooled)

    def _to_backlog(self, data: bytes, category: str, ts_ns: int) -> None:
        if not self._keep([(data, category, ts_ns)], reports.NETWORK_ERROR):
            return
        self._recovering = True
        self.worker.poke(self._wait_for(category), start=False)

    def _wait_for(self, category: str) -> float:
        wait = self._retry_at - monotonic()
        return max(0.0, wait, self.rate_limiter.seconds_left([category]))

    def _drain_backlog(self) -> Optional[float]:
        """Idle work: send the oldest backlog envelope; the seconds until the next call."""
        wait = self._retry_at - monotonic()
        if wait > 0:
            return wait
        claim, skipped = self.backlog.claim(self.rate_limiter.is_limited)
        if claim is None:
            self.backlog.collect()
            if skipped:
                return max(0.01, min(self.rate_limiter.seconds_left([c]) for c in skipped))
            self._recovering = False
            return None
        if self.backlog.durable:
            why = _envelope_error(claim.data)
            if why is not None:
                self.backlog.set_aside(claim, why)  # never sent: counted by _on_corrupt
                return 0.0
        outcome, _result = self._attempt(claim.data, claim.category)
        if outcome == SENT:
            self.backlog.ack(claim)
        elif outcome == RETRY:
            self.backlog.release(claim)
            return self._wait_for(claim.category)
        else:
            self.backlog.discard(claim)
        return 0.0

    def _attempt(self, data: bytes, category: str) -> Tuple[str, SendResult]:
        """One POST of ``data`` (plus a pending client report); counts the outcome."""
        report = self.stats.take_report() if self.options.send_client_reports else None
        body = _with_sent_at(data)
        if report:
            body += (
                Envelope({}, [Item.from_json("client_report", report)])
                .serialize()
                .split(b"\n", 1)[1]
            )
        result = self.post(body)
        self.last_result = result
        outcome = self.policy.decide(result.status)
        if outcome == SENT:
            self._failures = 0
            self._retry_at = 0.0
            if category != "internal":
                self.stats.record_sent()
        else:
            if report:
                self.stats.restore_report(report)
            if outcome == RETRY:
                self._failures += 1
                delay = self.policy.backoff(self._failures, result.retry_after)
                if result.status != 429:
                    self._retry_at = monotonic() + delay
                elif not self.rate_limiter.is_limited(category):
                    # a 429 whose limits name other categories: this one waits too
                    self.rate_limiter.hold(category, delay)
                self.stats.record_retry()
            else:
                self.stats.record_lost_envelope(reports.SEND_ERROR, category, data)
                if result.status in (401, 403):  # one line on stderr says it (notices.py)
                    notices.key_refused(self.dsn.netloc, self.dsn.project_id, result.status)
                    self._warned.add(f"drop{result.status}")
                hint = _DROP_HINTS.get(result.status or 0, "the server refused the envelope")
                self._warn_once(
                    f"drop{result.status}",
                    f"{self.dsn.netloc} answered {result.reason}: {hint}; the "
                    f"envelope was dropped (counted as send_error, not retried)",
                )
        for callback in self.on_result:
            callback(result)
        return outcome, result

    def _queue_client_report(self) -> None:
        if self.options.send_client_reports and self.stats.has_unreported():
            self._prepare_sending()  # on this (app) thread, not the sender's
            self.worker.submit(self._send_report)

    def _send_report(self) -> None:
        if self.rate_limiter.is_limited("internal") or monotonic() < self._retry_at:
            return
        report = self.stats.take_report()
        if not report:
            return
        body = Envelope(
            {"sent_at": utc_timestamp()}, [Item.from_json("client_report", report)]
        ).serialize()
        result = self.post(body)
        if not result.ok:
            self.stats.restore_report(report)

    def _on_evict(self, reason: str, category: str, n: int) -> None:
        self.stats.record_lost(reason, category, n)

    def _on_corrupt(self, name: str, category: str, why: str) -> None:
        """A spool file that is not a valid envelope was set aside: count it, say so once."""
        self.stats.record_lost(reports.INTERNAL_SDK_ERROR, category)
        self._warn_once(
            "corrupt",
            f"spool file {name} is not a valid envelope ({why}): not sent, set aside as "
            f".corrupt-{name} (counted as internal_sdk_error)",
        )

    def _evict_reason(self, category: str) -> str:
        if self.rate_limiter.is_limited(category):
            return reports.RATELIMIT_BACKOFF
        return reports.NETWORK_ERROR

    def _timeout(self) -> float:
        timeout = float(self.options.http_timeout)
        deadline = self._flush_deadline
        if deadline is not None and not self.worker.thread_alive:
            # running inline in flush()/close() (e.g. at exit): never past the deadline
            timeout = max(0.05, min(timeout, deadline - monotonic()))
        return timeout

    def post(self, body: bytes) -> SendResult:
        """POST one serialized envelope; never raises."""
        headers = {}
        if self.options.compress and len(body) > 512:
            import gzip  # already loaded by _prepare_sending() on the app thread

            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        try:
            status, lower, content = self.connection.post(body, headers, self._timeout())
        except Exception as exc:
            self._log_failure(f"cannot reach {self.dsn.netloc}: {type(exc).__name__}")
            return SendResult(False, None, f"network error: {type(exc).__name__}")
        # a 429 waits at least the policy's backoff, growing while 429s repeat
        minimum = self.policy.backoff(self._failures + 1) if status == 429 else 0.0
        self.rate_limiter.update(status, lower, minimum)
        if self.options.debug:
            get_logger(_LOGGER).debug(
                "sent %d bytes to %s: HTTP %s", len(body), self.dsn.netloc, status
            )
        if 200 <= status < 300:
            return SendResult(True, status, "accepted")
        reason = f"HTTP {status}"
        detail = _detail(content)
        if detail:
            reason += f": {detail}"
        retry_after = None
        if "retry-after" in lower:
            retry_after = parse_retry_after(lower["retry-after"], cap=self.rate_limiter.max_seconds)
        self._log_failure(f"{self.dsn.netloc} refused an envelope: {reason}")
        return SendResult(False, status, reason, retry_after=retry_after)

    def _log_failure(self, message: str) -> None:
        if self.options.debug:
            get_logger(_LOGGER).warning(message)
        else:
            get_logger(_LOGGER).debug(message)

    def _warn_once(self, key: str, message: str) -> None:
        if key in self._warned:
            get_logger(_LOGGER).debug(message)
            return
        self._warned.add(key)
        get_logger(_LOGGER).warning(message)

    # --- fork ---------------------------------------------------------------------------
    def reinit_after_fork(self) -> None:
        """In a forked child: fresh queue, thread, session and locks; nothing the parent
        had queued is sent by the child (spooled files on disk are shared, by claim)."""
        self.worker.reinit_after_fork()
        if self.spooler is not None:
            self.spooler.reinit_after_fork()
        self.backlog.reinit_after_fork()
        self.rate_limiter.reinit_after_fork()
        self.stats = DeliveryStats()
        self.last_result = None
        self._init_process_state()


def _with_sent_at(data: bytes) -> bytes:
    """The envelope with ``sent_at`` in its header set to now (it may have waited)."""
    head, sep, rest = data.partition(b"\n")
    try:
        headers = json.loads(head)
        headers["sent_at"] = utc_timestamp()
        head = json.dumps(headers, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except ValueError:
        pass
    return head + sep + rest


def _envelope_error(data: bytes) -> Optional[str]:
    """Why ``data`` (read back from the spool) is not an envelope to send; None when it is."""
    try:
        envelope = Envelope.parse(data)
    except Exception as exc:  # EnvelopeError, or a decoding error of damaged bytes
        return str(exc)[:200] or type(exc).__name__
    if not envelope.items:
        return "it has no items"
    return None


def _detail(content: bytes) -> str:
    try:
        data = json.loads(content)
        if isinstance(data, dict) and data.get("detail"):
            return str(data["detail"])[:200]
    except Exception:
        pass
    return ""
