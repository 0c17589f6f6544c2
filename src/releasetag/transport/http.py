"""The HTTP transport: envelopes posted by one background thread over a keep-alive session."""

from __future__ import annotations

import gzip
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from .. import trim
from ..dsn import Dsn
from ..envelope import ENVELOPE_CONTENT_TYPE, Envelope, Item
from ..event import utc_timestamp
from . import reports
from .ratelimit import RateLimiter
from .reports import DeliveryStats
from .worker import BackgroundWorker

logger = logging.getLogger("releasetag.transport")


@dataclass(frozen=True)
class SendResult:
    """What became of one POST: ``ok`` when the server accepted it."""

    ok: bool
    status: Optional[int] = None
    reason: str = ""
    retry: bool = False  # worth trying again later (network error, 5xx, 429)


class HttpTransport:
    """Posts envelopes to the DSN's envelope endpoint without blocking the caller."""

    def __init__(self, options: Any, dsn: Optional[Dsn] = None) -> None:
        self.options = options
        self.dsn = dsn or Dsn.parse(options.dsn)
        self.stats = DeliveryStats()
        self.rate_limiter = RateLimiter()
        self.worker = BackgroundWorker(options.transport_queue_size)
        self.last_result: Optional[SendResult] = None
        self._session: Any = None
        self._auth = self.dsn.auth_header()
        self._url = self.dsn.envelope_url
        self._sdk = None  # set by the client
        self.on_result: List[Callable[[SendResult], None]] = []

    # --- called on the app thread -------------------------------------------------------
    def capture_event(self, event: Dict[str, Any]) -> bool:
        """Queue ``event`` for delivery; False when it was dropped (and counted)."""
        category = "error" if event.get("exception") or event.get("level") in (
            "error", "fatal") else "default"
        if category == "default":
            category = "error"  # Sentry counts messages as the error category too
        if self.rate_limiter.is_limited(category):
            self.stats.record_lost(reports.RATELIMIT_BACKOFF, category)
            return False
        if not self.worker.submit(lambda: self._send_event(event)):
            self.stats.record_lost(reports.QUEUE_OVERFLOW, category)
            return False
        return True

    def send_envelope(self, envelope: Envelope) -> bool:
        """Queue a ready envelope (sessions, attachments, ...)."""
        if not self.worker.submit(lambda: self._deliver(envelope)):
            for item in envelope.items:
                self.stats.record_lost(reports.QUEUE_OVERFLOW, item.data_category)
            return False
        return True

    def flush(self, timeout: Optional[float] = None) -> bool:
        return self.worker.flush(timeout)

    def close(self, timeout: Optional[float] = None) -> bool:
        ok = self.worker.close(timeout)
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception:
                pass
        return ok

    # --- on the worker thread -----------------------------------------------------------
    def _send_event(self, event: Dict[str, Any]) -> None:
        payload = trim.encode_event(event, self.options.max_event_bytes)
        headers: Dict[str, Any] = {"event_id": event.get("event_id"), "sent_at": utc_timestamp()}
        if self._sdk:
            headers["sdk"] = self._sdk
        envelope = Envelope(headers, [Item({"type": "event", "content_type": "application/json"},
                                           payload)])
        self._deliver(envelope)

    def _deliver(self, envelope: Envelope) -> None:
        envelope.items = [i for i in envelope.items if self._allowed(i)]
        if not envelope.items:
            return
        report = self.stats.take_report() if self.options.send_client_reports else None
        if report:
            envelope.items.append(Item.from_json("client_report", report))
        result = self.post(envelope.serialize())
        self.last_result = result
        if result.ok:
            self.stats.record_sent(sum(1 for i in envelope.items if i.type == "event"))
        else:
            if report:
                self.stats.restore_report(report)
            reason = reports.NETWORK_ERROR if result.status is None else reports.SEND_ERROR
            for item in envelope.items:
                if item.type != "client_report":
                    self.stats.record_lost(reason, item.data_category)
        for callback in self.on_result:
            callback(result)

    def _allowed(self, item: Item) -> bool:
        if item.type == "client_report" or not self.rate_limiter.is_limited(item.data_category):
            return True
        self.stats.record_lost(reports.RATELIMIT_BACKOFF, item.data_category)
        return False

    def _get_session(self) -> Any:
        if self._session is None:
            import requests  # noqa: PLC0415 - loaded on the worker thread, not at import

            session = requests.Session()
            session.headers.update({"User-Agent": self._auth.rsplit("=", 1)[-1],
                                    "X-Sentry-Auth": self._auth,
                                    "Content-Type": ENVELOPE_CONTENT_TYPE})
            proxies = {k: v for k, v in (("http", self.options.http_proxy),
                                         ("https", self.options.https_proxy)) if v}
            if proxies:
                session.proxies.update(proxies)
            if self.options.ca_certs:
                session.verify = self.options.ca_certs
            self._session = session
        return self._session

    def post(self, body: bytes) -> SendResult:
        """POST one serialized envelope; never raises."""
        headers = {}
        if self.options.compress and len(body) > 512:
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        try:
            session = self._get_session()
            response = session.post(self._url, data=body, headers=headers,
                                    timeout=self.options.http_timeout)
        except Exception as exc:
            self._log_failure(f"cannot reach {self.dsn.netloc}: {type(exc).__name__}")
            return SendResult(False, None, f"network error: {type(exc).__name__}", retry=True)
        status = response.status_code
        lower = {k.lower(): v for k, v in response.headers.items()}
        self.rate_limiter.update(status, lower)
        try:
            response.content  # noqa: B018 - read the body so the connection is reused
        except Exception:
            pass
        if 200 <= status < 300:
            return SendResult(True, status, "accepted")
        reason = f"HTTP {status}"
        detail = _detail(response)
        if detail:
            reason += f": {detail}"
        self._log_failure(f"{self.dsn.netloc} refused an envelope: {reason}")
        return SendResult(False, status, reason, retry=status == 429 or status >= 500)

    def _log_failure(self, message: str) -> None:
        if self.options.debug:
            logger.warning(message)
        else:
            logger.debug(message)


def _detail(response: Any) -> str:
    try:
        data = response.json()
        if isinstance(data, dict) and data.get("detail"):
            return str(data["detail"])[:200]
    except Exception:
        pass
    return ""


def reinit_after_fork(transport: HttpTransport) -> None:
    """Give a forked child a fresh queue, thread and session; nothing the parent queued."""
    transport.worker.reinit_after_fork()
    transport._session = None
    transport.stats = DeliveryStats()
    transport.rate_limiter._lock = threading.Lock()
    transport.last_result = None
    _ = os.getpid()
