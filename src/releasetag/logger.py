"""``releasetag.logger``: Sentry Logs from your code, as ``sentry_sdk.logger`` sends them.

>>> import releasetag
>>> releasetag.logger.info("order {order_id} paid", order_id=42, attributes={"shop": "eu"})

The body is the template formatted with the parameters (``str.format``; a missing name stays
``{name}``); the template and each parameter travel as attributes
(``sentry.message.template``, ``sentry.message.parameter.<name>``). A template that does not
format (mismatched braces, a positional field) is sent as it is. Nothing is sent unless the
client was made with ``enable_logs=True`` (or ``RELEASETAG_ENABLE_LOGS=1``); no call raises.
"""

from __future__ import annotations

from .logs import capture_log
from .protocol.log import internal_error
from .telemetry import plain_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

__all__ = ["trace", "debug", "info", "warning", "error", "fatal"]


class _KeepMissing(dict):
    """Format parameters where an unknown name stays ``{name}``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _log(
    text: str, number: int, template: Any, attributes: Optional[Dict[str, Any]], params: Any
) -> None:
    try:
        attrs: Dict[str, Any] = {}
        if attributes:
            for key, value in attributes.items():
                attrs[str(key)] = plain_value(value)
        body = template if template.__class__ is str else str(template)
        if params:
            for key, value in params.items():
                attrs["sentry.message.parameter." + key] = plain_value(value)
            attrs["sentry.message.template"] = body
            try:
                body = body.format_map(_KeepMissing(params))
            except Exception:  # mismatched braces, {0}, a failing __format__: the raw template
                pass
        capture_log(text, number, body, attrs)
    except Exception:
        internal_error("releasetag.logger failed")


def trace(template: str, attributes: Optional[Dict[str, Any]] = None, **params: Any) -> None:
    """A log at severity ``trace`` (1)."""
    _log("trace", 1, template, attributes, params)


def debug(template: str, attributes: Optional[Dict[str, Any]] = None, **params: Any) -> None:
    """A log at severity ``debug`` (5)."""
    _log("debug", 5, template, attributes, params)


def info(template: str, attributes: Optional[Dict[str, Any]] = None, **params: Any) -> None:
    """A log at severity ``info`` (9)."""
    _log("info", 9, template, attributes, params)


def warning(template: str, attributes: Optional[Dict[str, Any]] = None, **params: Any) -> None:
    """A log at severity ``warn`` (13)."""
    _log("warn", 13, template, attributes, params)


def error(template: str, attributes: Optional[Dict[str, Any]] = None, **params: Any) -> None:
    """A log at severity ``error`` (17)."""
    _log("error", 17, template, attributes, params)


def fatal(template: str, attributes: Optional[Dict[str, Any]] = None, **params: Any) -> None:
    """A log at severity ``fatal`` (21)."""
    _log("fatal", 21, template, attributes, params)
