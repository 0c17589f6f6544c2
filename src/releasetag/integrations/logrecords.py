"""A ``logging.LogRecord`` as a Sentry Log, with the attributes sentry-sdk 2.76 gives it.

Body: the formatted message; attributes: the record's ``extra=`` fields, ``sentry.origin``
(``auto.log.stdlib``), the %-template and its arguments (``sentry.message.template``,
``sentry.message.parameter.<index or key>``), the code location (``code.file.path`` relative
to the working folder, ``code.line.number``, ``code.function.name``), thread, process,
``logger.name`` and, beyond sentry-sdk, the exception of ``exc_info`` (``exception.type``,
``exception.message``, ``exception.stacktrace``).
"""

from __future__ import annotations

import logging

from ..logs import capture_log, project_root
from ..protocol.telemetry import LOGGING_SEVERITY, severity_of, severity_text
from ..telemetry import plain_value
from .logging import _STANDARD_ATTRS, formatted_message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict


def capture_record(record: logging.LogRecord) -> None:
    """Queue ``record`` as a log (the caller checked the level and ``enable_logs``)."""
    number = severity_of(record.levelno, LOGGING_SEVERITY)
    attrs: Dict[str, Any] = {}
    extra = record.__dict__.keys() - _STANDARD_ATTRS
    for key in extra:
        if isinstance(key, str) and not key.startswith("_"):
            attrs[key] = plain_value(record.__dict__[key])
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
        formatted_message(record),
        attrs,
        int(record.created * 1e9),
    )


def _location(record: logging.LogRecord, attrs: Dict[str, Any]) -> None:
    if record.lineno:
        attrs["code.line.number"] = record.lineno
    path = record.pathname
    if path:
        root = project_root()
        attrs["code.file.path"] = (
            path[len(root) + 1 :] if root and path.startswith(root) else path
        )
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
    attrs["exception.message"] = plain_value(str(exc)) if str(exc) else ""
    try:
        attrs["exception.stacktrace"] = "".join(traceback.format_exception(*info))[-8192:]
    except Exception:
        pass
