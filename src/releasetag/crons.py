"""Cron monitoring: ``check_in`` items, as sentry-sdk's ``monitor`` and ``capture_checkin`` send.

>>> import releasetag
>>> @releasetag.monitor(monitor_slug="nightly-report")
... def report() -> None: ...

A check-in is an envelope of its own (category ``monitor``) handed to the same transport as
events: the queue, the disk spool, retries and rate limits apply to it unchanged. Nothing here
raises into the caller; without a client (or a DSN) every call is a cheap no-op that still
returns a check-in id.
"""

from __future__ import annotations

import functools
import inspect
import time

from .current import get_client
from .event import new_event_id, sdk_info, utc_timestamp
from .protocol.envelope import Envelope, Item
from .protocol.log import internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, Callable, Dict, List, Optional, Type, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["MonitorStatus", "capture_checkin", "monitor"]


class MonitorStatus:
    """The statuses a check-in carries (sentry-sdk's names)."""

    IN_PROGRESS = "in_progress"
    OK = "ok"
    ERROR = "error"


def trace_context() -> Dict[str, Any]:
    """The current trace (the active span's ids, else the isolation scope's, made now if
    none): the one place check-ins read the trace from."""
    from .tracing import current_trace_context

    prop = current_trace_context()
    return {
        "trace_id": prop["trace_id"],
        "span_id": prop["span_id"],
        "parent_span_id": prop.get("parent_span_id"),
    }


def check_in_payload(
    monitor_slug: Optional[str],
    check_in_id: str,
    status: Optional[str],
    duration: Optional[float],
    monitor_config: Optional[Dict[str, Any]],
    options: Any,
) -> Dict[str, Any]:
    """The ``check_in`` item's payload, field for field as sentry-sdk writes it."""
    payload: Dict[str, Any] = {
        "type": "check_in",
        "monitor_slug": monitor_slug,
        "check_in_id": check_in_id,
        "status": status,
        "duration": duration,
        "environment": getattr(options, "environment", None),
        "release": getattr(options, "release", None),
    }
    if monitor_config:
        payload["monitor_config"] = monitor_config
    payload["event_id"] = new_event_id()
    payload["timestamp"] = utc_timestamp()
    payload["contexts"] = {"trace": trace_context()}
    server_name = getattr(options, "server_name", None)
    if server_name:
        payload["server_name"] = server_name
    client = get_client()
    payload["sdk"] = getattr(client, "sdk", None) or sdk_info([])
    payload["platform"] = "python"
    return payload


def check_in_envelope(payload: Dict[str, Any], public_key: Optional[str]) -> Envelope:
    """One check-in in its envelope, with the trace's dynamic sampling context."""
    dsc: Dict[str, Any] = {"trace_id": payload["contexts"]["trace"]["trace_id"]}
    for key in ("environment", "release"):
        if payload.get(key):
            dsc[key] = payload[key]
    if public_key:
        dsc["public_key"] = public_key
    headers = {"event_id": payload["event_id"], "trace": dsc}
    return Envelope(headers, [Item.from_json("check_in", payload)])


def capture_checkin(
    monitor_slug: Optional[str] = None,
    check_in_id: Optional[str] = None,
    status: Optional[str] = None,
    duration: Optional[float] = None,
    monitor_config: Optional[Dict[str, Any]] = None,
) -> str:
    """Send one check-in; returns its check-in id (made here when not given)."""
    check_in_id = check_in_id or new_event_id()
    client = get_client()
    transport = client.transport if client is not None else None
    if client is None or transport is None:
        return check_in_id
    try:
        payload = check_in_payload(
            monitor_slug, check_in_id, status, duration, monitor_config, client.options
        )
        dsn = client.dsn
        transport.send_envelope(
            check_in_envelope(payload, dsn.public_key if dsn is not None else None)
        )
    except Exception:
        internal_error("sending a check-in failed")
    return check_in_id


class monitor:  # noqa: N801 - sentry-sdk's name, so code switching keeps working
    """Report a job's runs to a cron monitor: ``in_progress`` when it starts, then ``ok`` or
    ``error`` (an exception) with its duration. A decorator (sync and async functions; each
    call is its own check-in) and a context manager."""

    def __init__(
        self,
        monitor_slug: Optional[str] = None,
        monitor_config: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.monitor_slug = monitor_slug
        self.monitor_config = monitor_config
        self._open: List[Any] = []  # (check-in id, start) per entered ``with``

    def _start(self) -> Any:
        check_in_id = capture_checkin(
            monitor_slug=self.monitor_slug,
            status=MonitorStatus.IN_PROGRESS,
            monitor_config=self.monitor_config,
        )
        return check_in_id, time.perf_counter()

    def _finish(self, started: Any, failed: bool) -> None:
        check_in_id, start = started
        capture_checkin(
            monitor_slug=self.monitor_slug,
            check_in_id=check_in_id,
            status=MonitorStatus.ERROR if failed else MonitorStatus.OK,
            duration=time.perf_counter() - start,
            monitor_config=self.monitor_config,
        )

    def __enter__(self) -> None:
        self._open.append(self._start())

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._open:
            self._finish(self._open.pop(), exc_value is not None)

    def __call__(self, fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                started = self._start()
                try:
                    result = await fn(*args, **kwargs)
                except BaseException:
                    self._finish(started, True)
                    raise
                self._finish(started, False)
                return result

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            started = self._start()
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                self._finish(started, True)
                raise
            self._finish(started, False)
            return result

        return run  # type: ignore[return-value]
