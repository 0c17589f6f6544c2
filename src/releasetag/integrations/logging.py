"""Log records become breadcrumbs (``level`` and above), events (``event_level`` and above)
and, with ``enable_logs``, Sentry Logs (``sentry_logs_level`` and above; ``capture_record``
gives them sentry-sdk 2.76's attributes, plus the exception's type, message and stack).

The integration sees every record a logger handles, whatever handlers the app configured
(``dictConfig`` included): it wraps ``logging.Logger.callHandlers`` once. Records of the SDK's
own loggers, of urllib3 and of ignored loggers never feed back, and a per-thread guard stops a
log call made while capturing from recursing. A broken record (bad format string, unprintable
arguments, non-str message) still gives a valid breadcrumb or event and never raises.
"""

from __future__ import annotations

import logging
import threading

from ..current import get_client
from ..protocol.log import internal_error
from ..serialize import safe_repr, safe_str, serialize, truncate
from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterable, List, Optional, Set

    from ..types import Breadcrumb, Event

# Loggers that never feed back (exact names and their children).
_ALWAYS_IGNORED = ("releasetag", "urllib3")
_ignored: Set[str] = set(_ALWAYS_IGNORED)
_ignored_cache: Dict[str, bool] = {}
#: records an integration reports itself (a server's line about a dead worker): no event
reported_elsewhere: List[Callable[[logging.LogRecord], bool]] = []

# Attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "stack_info",
    "exc_text",
    "relativeCreated",
}

# how many fields a record without extra= has (taskName since 3.12; message once formatted)
_PLAIN_FIELDS = len(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None)))

_LEVEL_NAMES = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "fatal",
}

_active: Optional["LoggingIntegration"] = None
_original_call_handlers: Any = None
_guard = threading.local()


def ignore_logger(name: str) -> None:
    """Never turn records of logger ``name`` (or its children) into breadcrumbs or events."""
    _ignored.add(name)
    _ignored_cache.clear()


def _is_ignored(name: str) -> bool:
    hit = _ignored_cache.get(name)
    if hit is None:
        hit = any(name == ig or name.startswith(ig + ".") for ig in _ignored)
        if len(_ignored_cache) < 10000:
            _ignored_cache[name] = hit
    return hit


def level_name(levelno: int) -> str:
    """The event level for a logging level number."""
    name = _LEVEL_NAMES.get(levelno)
    if name is not None:
        return name
    if levelno >= logging.CRITICAL:
        return "fatal"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


def formatted_message(record: logging.LogRecord) -> str:
    """``record.getMessage()``, or a readable fallback when the record is broken."""
    try:
        text = record.getMessage()
        return text if isinstance(text, str) else safe_str(text)
    except Exception:
        msg = safe_str(record.msg)
        args = record.args
        return f"{msg} (arguments: {safe_repr(args, 512)})" if args else msg


def record_extras(record: logging.LogRecord) -> Dict[str, Any]:
    """The record's ``extra=`` fields, serialized."""
    keys = record.__dict__.keys() - _STANDARD_ATTRS
    if not keys:
        return {}
    return {
        safe_str(k): serialize(record.__dict__[k], max_depth=3)
        for k in keys
        if isinstance(k, str) and not k.startswith("_")
    }


class LoggingIntegration(Integration):
    """Breadcrumbs from records at ``level`` and above, events at ``event_level`` and above,
    Sentry Logs at ``sentry_logs_level`` and above when the client has ``enable_logs``.

    ``None`` turns the one it is given for off; the three are independent.
    """

    identifier = "logging"

    def __init__(
        self,
        level: Optional[int] = logging.INFO,
        event_level: Optional[int] = logging.ERROR,
        sentry_logs_level: Optional[int] = logging.INFO,
    ) -> None:
        self.level = level
        self.event_level = event_level
        self.sentry_logs_level = sentry_logs_level
        # lowest level that needs any work (a huge number: nothing to do)
        lows = [x for x in (level, event_level, sentry_logs_level) if x is not None]
        self._threshold = min(lows) if lows else 1 << 30

    def setup(self, client: Any) -> None:
        global _active, _original_call_handlers
        _active = self
        if _original_call_handlers is None:
            _original_call_handlers = logging.Logger.callHandlers
            logging.Logger.callHandlers = _call_handlers  # type: ignore[method-assign]

    # --- per record -----------------------------------------------------------------------
    def handle(self, record: logging.LogRecord) -> None:
        """Turn one record into a breadcrumb and/or event (never raises)."""
        client = get_client()
        if client is None or client.transport is None:
            return
        if getattr(_guard, "busy", False) or _is_ignored(record.name):
            return
        _guard.busy = True
        try:
            levelno = record.levelno
            if self.event_level is not None and levelno >= self.event_level:
                self._capture(client, record)
            text = None  # the formatted message, made once for the breadcrumb and the log
            if self.level is not None and levelno >= self.level:
                text = formatted_message(record)
                self._breadcrumb(client, record, text)
            logs_level = self.sentry_logs_level
            if logs_level is not None and levelno >= logs_level and client.options.enable_logs:
                capture_record(record, formatted_message(record) if text is None else text)
        except Exception:
            internal_error("logging: recording a log record failed")
        finally:
            _guard.busy = False

    def _breadcrumb(self, client: Any, record: logging.LogRecord, text: str) -> None:
        crumb: Breadcrumb = {
            "type": "log",
            "category": record.name,
            "level": _LEVEL_NAMES.get(record.levelno) or level_name(record.levelno),
            "message": text,
            "timestamp": record.created,
        }
        if record.__dict__.keys() - _STANDARD_ATTRS:
            crumb["data"] = record_extras(record)
        hint = {"log_record": record} if client.options.before_breadcrumb is not None else None
        client.add_breadcrumb(crumb, hint)

    def _capture(self, client: Any, record: logging.LogRecord) -> None:
        if threading.current_thread().name.startswith("releasetag"):
            return  # the SDK's own threads never report their log records
        if reported_elsewhere and any(check(record) for check in reported_elsewhere):
            return  # (worker_deaths.py: one event per dead worker)
        formatted = formatted_message(record)
        logentry: Dict[str, Any] = {
            "message": truncate(safe_str(record.msg, 8192), 8192),
            "formatted": truncate(formatted, 8192),
        }
        if record.args:
            logentry["params"] = serialize(record.args, max_depth=2)
        event: Event = {
            "logger": record.name,
            "level": level_name(record.levelno),
            "logentry": logentry,
        }
        extras = record_extras(record)
        if extras:
            event["extra"] = extras
        hint = {"log_record": record}
        exc_info = record.exc_info
        if exc_info and exc_info[1] is not None:
            client.capture_exception(
                exc_info, handled=True, mechanism_type="logging", hint=hint, event=event
            )
        else:
            client.capture_event(event, hint)


def _call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
    integration = _active
    if integration is not None and record.levelno >= integration._threshold:
        try:
            integration.handle(record)
        except Exception:
            internal_error("logging: the integration failed")
    _original_call_handlers(self, record)


def active_levels() -> Iterable[Optional[int]]:
    """(level, event_level) of the active integration (for tests and diagnostics)."""
    return (_active.level, _active.event_level) if _active is not None else (None, None)


# --- Sentry Logs ----------------------------------------------------------------------------
_logs_api: Any = None  # (capture_log, plain_value, severity_of, severity_text), at first use
_SEVERITY = {logging.DEBUG: 5, logging.INFO: 9, logging.WARNING: 13, logging.ERROR: 17}


def _load_logs_api() -> Any:
    """The logs modules, loaded at the first log, not at init() (apps without enable_logs
    never load them)."""
    global _logs_api
    from ..logs import capture_log
    from ..protocol.telemetry import LOGGING_SEVERITY, severity_of, severity_text
    from ..telemetry import plain_value

    _logs_api = (
        capture_log,
        plain_value,
        lambda levelno: severity_of(levelno, LOGGING_SEVERITY),
        severity_text,
    )
    return _logs_api


def capture_record(record: logging.LogRecord, text: Optional[str] = None) -> None:
    """Queue ``record`` as a log (the caller checked the level and ``enable_logs``);
    ``text``: its formatted message, when the caller made it already."""
    capture_log, plain_value, severity_of, severity_text = _logs_api or _load_logs_api()
    levelno = record.levelno
    number = _SEVERITY.get(levelno) or severity_of(levelno)
    attrs: Dict[str, Any] = {}
    fields = record.__dict__
    if len(fields) > _PLAIN_FIELDS:  # fields beyond a plain record's: extra=
        for key in fields.keys() - _STANDARD_ATTRS:
            if isinstance(key, str) and not key.startswith("_"):
                attrs[key] = plain_value(fields[key])
    attrs["sentry.origin"] = "auto.log.stdlib"
    args = record.args
    if args:
        if isinstance(args, tuple):
            for i, arg in enumerate(args):
                attrs["sentry.message.parameter.%d" % i] = plain_value(arg)
        elif isinstance(args, dict):
            for key, value in args.items():
                attrs[f"sentry.message.parameter.{key}"] = plain_value(value)
        if isinstance(record.msg, str):
            attrs["sentry.message.template"] = record.msg
    _location(record, attrs)
    if record.exc_info and record.exc_info[1] is not None:
        _exception(record, attrs)
    capture_log(
        severity_text(number),
        number,
        formatted_message(record) if text is None else text,
        attrs,
        int(record.created * 1e9),
    )


def _location(record: logging.LogRecord, attrs: Dict[str, Any]) -> None:
    if record.lineno:
        attrs["code.line.number"] = record.lineno
    path = record.pathname
    if path:
        from ..logs import project_root

        root = project_root()
        attrs["code.file.path"] = path[len(root) + 1 :] if root and path.startswith(root) else path
    if record.funcName:
        attrs["code.function.name"] = record.funcName
    if record.thread:
        attrs["thread.id"] = record.thread
    if record.threadName:
        attrs["thread.name"] = record.threadName
    if record.process:
        attrs["process.pid"] = record.process
    if record.processName:
        attrs["process.executable.name"] = record.processName
    if record.name:
        attrs["logger.name"] = record.name


def _exception(record: logging.LogRecord, attrs: Dict[str, Any]) -> None:
    import traceback

    info = record.exc_info
    assert info is not None and info[1] is not None
    exc = info[1]
    attrs["exception.type"] = type(exc).__qualname__
    attrs["exception.message"] = safe_str(exc)
    try:
        attrs["exception.stacktrace"] = "".join(traceback.format_exception(*info))[-8192:]
    except Exception:
        pass
