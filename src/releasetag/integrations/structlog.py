"""structlog: a processor that sends each event as a Sentry Log and passes it on unchanged.

    import logging, structlog
    from releasetag.integrations.structlog import SentryLogsProcessor

    structlog.configure(processors=[
        structlog.processors.add_log_level,
        SentryLogsProcessor(level=logging.INFO),   # before the renderer
        structlog.processors.JSONRenderer(),
    ])

The event's ``event`` is the body; every other key-value pair becomes a typed attribute
(str, bool, int, float, lists of one of them; anything else its repr); ``exc_info`` adds
``exception.type``/``message``/``stacktrace``. sentry-sdk has no structlog path
(sentry-python #4417); the attribute names follow its logging integration's.
"""

from __future__ import annotations

import logging

from ..current import get_client
from ..logs import capture_log
from ..protocol.log import internal_error
from ..protocol.telemetry import LOGGING_SEVERITY, severity_of, severity_text
from ..telemetry import plain_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, MutableMapping, Optional

_LEVELS = {
    "trace": 5,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "msg": logging.INFO,
    "log": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "err": logging.ERROR,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}
_SKIPPED = frozenset({"event", "level", "exc_info", "timestamp", "_record", "_from_structlog"})


class SentryLogsProcessor:
    """A structlog processor: events at ``level`` and above become Sentry Logs (when the
    client has ``enable_logs``); the event dict goes on to the next processor as it came."""

    def __init__(self, level: int = logging.INFO) -> None:
        self.level = level

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        try:
            client = get_client()
            if client is not None and client.transport is not None and client.options.enable_logs:
                self._send(logger, method_name, event_dict)
        except Exception:
            internal_error("structlog: sending a log failed")
        return event_dict

    def _send(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> None:
        name = str(event_dict.get("level") or method_name or "info").lower()
        levelno = _LEVELS.get(name, logging.INFO)
        if levelno < self.level:
            return
        number = severity_of(levelno, LOGGING_SEVERITY + ((1, 1),))
        attrs: Dict[str, Any] = {"sentry.origin": "auto.log.structlog"}
        for key, value in event_dict.items():
            if key not in _SKIPPED and isinstance(key, str):
                attrs[key] = plain_value(value)
        logger_name = _logger_name(logger, event_dict)
        if logger_name:
            attrs.setdefault("logger.name", logger_name)
        exc = _exception(event_dict.get("exc_info"))
        if exc is not None:
            _exception_attributes(exc, attrs)
        body = event_dict.get("event")
        capture_log(severity_text(number), number, "" if body is None else str(body), attrs)


def _logger_name(logger: Any, event_dict: MutableMapping[str, Any]) -> Optional[str]:
    name = event_dict.get("logger") or event_dict.get("logger_name")
    if name is None:
        name = getattr(logger, "name", None)
    return str(name) if name else None


def _exception(value: Any) -> Any:
    import sys

    if value is True:
        return sys.exc_info()
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and value[1] is not None:
        return value
    return None


def _exception_attributes(info: Any, attrs: Dict[str, Any]) -> None:
    import traceback

    if info[1] is None:
        return
    attrs["exception.type"] = type(info[1]).__qualname__
    attrs["exception.message"] = str(info[1])
    attrs["exception.stacktrace"] = "".join(traceback.format_exception(*info))[-8192:]
