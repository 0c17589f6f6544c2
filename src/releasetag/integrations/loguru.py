"""loguru: breadcrumbs, events and Sentry Logs from loguru's records (sentry-sdk's
``LoguruIntegration`` names, arguments and defaults).

``LoguruIntegration(level=INFO, event_level=ERROR, sentry_logs_level=INFO)`` adds sinks to
loguru's logger at setup (``None`` leaves one out). ``sentry_logs_sink`` is the Sentry Logs
sink on its own: ``logger.add(sentry_logs_sink, level="INFO")``. Logs are sent only when the
client has ``enable_logs``; the attributes are sentry-sdk's (``sentry.origin``
``auto.log.loguru``, code location, thread, process, ``logger.name``, ``extra`` values as
``sentry.message.parameter.<key>``).

Deliberate differences: events and breadcrumbs carry loguru's message alone
(``breadcrumb_format`` and ``event_format`` are accepted and not used).
"""

from __future__ import annotations

from ..current import get_client
from ..logs import capture_log, project_root
from ..protocol.log import internal_error
from ..protocol.telemetry import LOGURU_SEVERITY, severity_of, severity_text
from ..telemetry import plain_value
from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL = 5, 10, 20, 25, 30, 40, 50
DEFAULT_LEVEL = INFO
DEFAULT_EVENT_LEVEL = ERROR
_EVENT_LEVELS = ((CRITICAL, "fatal"), (ERROR, "error"), (WARNING, "warning"), (INFO, "info"))


def _event_level(no: int) -> str:
    for level, name in _EVENT_LEVELS:
        if no >= level:
            return name
    return "debug"


class LoguruIntegration(Integration):
    """Sinks on loguru's logger: breadcrumbs (``level``), events (``event_level``) and Sentry
    Logs (``sentry_logs_level``)."""

    identifier = "loguru"

    def __init__(
        self,
        level: Optional[int] = DEFAULT_LEVEL,
        event_level: Optional[int] = DEFAULT_EVENT_LEVEL,
        breadcrumb_format: Any = None,
        event_format: Any = None,
        sentry_logs_level: Optional[int] = DEFAULT_LEVEL,
    ) -> None:
        self.level = level
        self.event_level = event_level
        self.breadcrumb_format = breadcrumb_format
        self.event_format = event_format
        self.sentry_logs_level = sentry_logs_level

    def setup(self, client: Any) -> None:
        from loguru import logger

        global _installed
        for sink_id in _installed:  # a second init: one set of sinks
            try:
                logger.remove(sink_id)
            except ValueError:
                pass
        _installed = []
        if self.level is not None:
            _installed.append(logger.add(_breadcrumb_sink, level=self.level, format="{message}"))
        if self.event_level is not None:
            _installed.append(logger.add(_event_sink, level=self.event_level, format="{message}"))
        if self.sentry_logs_level is not None:
            _installed.append(logger.add(sentry_logs_sink, level=self.sentry_logs_level))


_installed: list = []


def _breadcrumb_sink(message: Any) -> None:
    client = get_client()
    if client is None or client.transport is None:
        return
    try:
        record = message.record
        client.add_breadcrumb(
            {
                "type": "log",
                "category": record["name"],
                "level": _event_level(record["level"].no),
                "message": record["message"],
                "timestamp": record["time"].timestamp(),
            }
        )
    except Exception:
        internal_error("loguru: recording a breadcrumb failed")


def _event_sink(message: Any) -> None:
    client = get_client()
    if client is None or client.transport is None:
        return
    try:
        record = message.record
        event: Dict[str, Any] = {
            "logger": record["name"],
            "level": _event_level(record["level"].no),
            "logentry": {"message": record["message"], "formatted": record["message"]},
        }
        exc = record.get("exception")
        if exc is not None and exc.value is not None:
            client.capture_exception(
                (exc.type, exc.value, exc.traceback), mechanism_type="loguru", event=event
            )
        else:
            client.capture_event(event)
    except Exception:
        internal_error("loguru: capturing an event failed")


def sentry_logs_sink(message: Any) -> None:
    """A loguru sink that sends each record as a Sentry Log (with ``enable_logs``)."""
    client = get_client()
    if client is None or client.transport is None or not client.options.enable_logs:
        return
    try:
        _send(message.record)
    except Exception:
        internal_error("loguru: sending a log failed")


def _send(record: Any) -> None:
    number = severity_of(record["level"].no, LOGURU_SEVERITY)
    attrs: Dict[str, Any] = {"sentry.origin": "auto.log.loguru"}
    file = record.get("file")
    if file:
        root = project_root()
        path = file.path
        attrs["code.file.path"] = path[len(root) + 1 :] if root and path.startswith(root) else path
    if record.get("line") is not None:
        attrs["code.line.number"] = record["line"]
    if record.get("function"):
        attrs["code.function.name"] = record["function"]
    thread = record.get("thread")
    if thread:
        attrs["thread.name"] = thread.name
        attrs["thread.id"] = thread.id
    process = record.get("process")
    if process:
        attrs["process.pid"] = process.id
        attrs["process.executable.name"] = process.name
    if record.get("name"):
        attrs["logger.name"] = record["name"]
    extra = record.get("extra")
    if isinstance(extra, dict):
        for key, value in extra.items():
            attrs[f"sentry.message.parameter.{key}"] = plain_value(value)
    capture_log(
        severity_text(number),
        number,
        str(record["message"]),
        attrs,
        int(record["time"].timestamp() * 1e9),
    )
