"""Sentry Logs: one log record -> a ``Log`` dict -> batched ``log`` items.

A log carries its body, severity, time, the current trace and typed attributes: the caller's,
then the scopes' (``set_attribute``; current over isolation over global), then the client's
defaults (``sentry.release``, ``sentry.environment``, ``sentry.sdk.name``/``version``,
``server.address``, the runtime); an attribute set earlier in that order wins. The dict
``before_send_log`` sees has sentry-sdk's shape (``severity_text``, ``severity_number``,
``body``, ``attributes``, ``time_unix_nano``, ``trace_id``, ``span_id``). Typing the
attributes and scrubbing by value happen on the batcher's thread, not the app's.
"""

from __future__ import annotations

import os
import sys
import time

from . import current
from . import scope as scope_mod
from ._version import __version__
from .integrations._trace import ensure_trace
from .protocol.log import get_logger, internal_error
from .protocol.telemetry import (
    LOG_BYTE_CATEGORY,
    LOG_CATEGORY,
    LOG_CONTENT_TYPE,
    LOG_ITEM,
    MAX_ITEMS_PER_LOG_ITEM,
    typed,
)
from .telemetry import plain_value
from .transport import reports
from .transport.reports import CALLBACK_ERROR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple

    from .client import Client
    from .scope import Scope
    from .scrub import Scrubber
    from .telemetry import Batcher

_NOT_SCRUBBED = ("sentry.", "code.", "thread.", "process.", "logger.", "server.address")


def trace_ids(scope: Optional[Scope] = None) -> Tuple[str, Optional[str]]:
    """(trace id, span id or None) of the current request or task: the one function logs and
    metrics read the trace through, so a log and an error of one request share a trace."""
    span = scope_mod.active_span.get()  # inside a span (releasetag.tracing): its ids
    if span is not None:
        context = span.get_trace_context()
        return context["trace_id"], context.get("span_id")
    iso = scope if scope is not None else scope_mod.get_isolation_scope()
    trace_id = iso.propagation.get("trace_id")
    if trace_id is None:
        trace_id = ensure_trace(iso)["trace_id"]
    return trace_id, None


def default_attributes(client: Client) -> Dict[str, Any]:
    """What every log and metric of ``client`` carries (release, environment, SDK, host)."""
    import platform  # once per client, at its first log or metric

    opts = client.options
    out: Dict[str, Any] = {
        "sentry.sdk.name": client.sdk.get("name", ""),
        "sentry.sdk.version": __version__,
        "process.runtime.name": platform.python_implementation(),
        "process.runtime.version": "%d.%d.%d" % sys.version_info[:3],
    }
    if opts.server_name:
        out["server.address"] = opts.server_name
    if opts.environment:
        out["sentry.environment"] = opts.environment
    if opts.release:
        out["sentry.release"] = opts.release
    return out


def scope_attributes(
    attributes: Dict[str, Any], client: Client, iso: Optional[Scope] = None
) -> None:
    """Add the scopes' attributes (and the user's, with ``send_default_pii``) that
    ``attributes`` does not have yet: the innermost scope wins."""
    iso = iso if iso is not None else scope_mod.get_isolation_scope()
    scopes = (scope_mod.get_current_scope(), iso, scope_mod.get_global_scope())
    for scope in scopes:
        if scope is not None and scope.attributes:
            for key, value in scope.attributes.items():
                if key not in attributes:
                    attributes[key] = value
    if client.options.send_default_pii:
        _user_attributes(attributes, scopes)


def _user_attributes(attributes: Dict[str, Any], scopes: Any) -> None:
    for scope in scopes:
        user = scope.user if scope is not None else None
        if user:
            for name, key in (
                ("user.id", "id"),
                ("user.name", "username"),
                ("user.email", "email"),
            ):
                if user.get(key) is not None and name not in attributes:
                    attributes[name] = plain_value(user[key])
            return


_USER_ATTRIBUTES = (("user.id", "id"), ("user.name", "username"), ("user.email", "email"))


def add_defaults(attributes: Dict[str, Any], defaults: Dict[str, Any]) -> None:
    """The client's attributes (release, environment, SDK...) that ``attributes`` lacks."""
    for key, value in defaults.items():
        if key not in attributes:
            attributes[key] = value


def capture_log(
    severity_text: str,
    severity_number: int,
    body: str,
    attributes: Dict[str, Any],
    time_ns: Optional[int] = None,
) -> None:
    """Queue one log for the current client (nothing when logs are off); never raises."""
    client = current.get_client()
    if client is None or client.transport is None or not client.options.enable_logs:
        return
    try:
        _capture(client, severity_text, severity_number, body, attributes, time_ns)
    except Exception:
        internal_error("capturing a log failed")


def _capture(
    client: Client,
    severity_text: str,
    severity_number: int,
    body: str,
    attributes: Dict[str, Any],
    time_ns: Optional[int],
) -> None:
    iso = scope_mod.get_isolation_scope()
    scope_attributes(attributes, client, iso)
    trace_id, span_id = trace_ids(iso)
    log: Dict[str, Any] = {
        "severity_text": severity_text,
        "severity_number": severity_number,
        "body": body,
        "attributes": attributes,
        "time_unix_nano": time.time_ns() if time_ns is None else time_ns,
        "trace_id": trace_id,
        "span_id": span_id,
    }
    before = client.options.before_send_log
    if before is not None:  # it sees every attribute (the batcher adds the defaults otherwise)
        add_defaults(attributes, client.telemetry_defaults())
        try:
            kept = before(log, {})
        except Exception:
            get_logger().warning("before_send_log raised; the log is dropped", exc_info=True)
            record_lost(client, CALLBACK_ERROR, log)
            return
        if kept is None:
            record_lost(client, reports.BEFORE_SEND, log)
            return
        log = kept
    batcher = client.log_batcher()
    if batcher is not None:
        batcher.add(log)


def record_lost(client: Client, reason: str, log: Dict[str, Any]) -> None:
    """Count one log the client dropped, as sentry-sdk does: one ``log_item`` and its size
    in ``log_byte``."""
    transport = client.transport
    if transport is None:
        return
    transport.record_lost(reason, LOG_CATEGORY)
    try:
        from .telemetry import make_item

        wire = to_wire(dict(log), None, client.telemetry_defaults())
        size = len(make_item(LOG_ITEM, LOG_CONTENT_TYPE, [wire]).payload)
    except Exception:
        size = 0
    if size:
        transport.record_lost(reason, LOG_BYTE_CATEGORY, size)


def to_wire(
    log: Dict[str, Any], scrubber: Optional[Scrubber], defaults: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """One ``Log`` as it travels in the container (attributes typed, secrets filtered)."""
    attributes = log.get("attributes")
    if not isinstance(attributes, dict):
        attributes = {}
    if defaults:
        add_defaults(attributes, defaults)
    attributes.setdefault("sentry.severity_number", log.get("severity_number"))
    attributes.setdefault("sentry.severity_text", log.get("severity_text"))
    body = str(log.get("body"))
    if scrubber is not None:
        body = scrubber.text(body)
        attributes = {k: _scrubbed(scrubber, k, v) for k, v in attributes.items()}
    out: Dict[str, Any] = {
        "timestamp": int(log.get("time_unix_nano") or time.time_ns()) / 1e9,
        "level": str(log.get("severity_text")),
        "body": body,
        "attributes": {str(k): typed(plain_value(v)) for k, v in attributes.items()},
    }
    if log.get("trace_id") is not None:
        out["trace_id"] = log["trace_id"]
    if log.get("span_id") is not None:
        out["span_id"] = log["span_id"]
    return out


def _scrubbed(scrubber: Scrubber, key: str, value: Any) -> Any:
    if key.startswith(_NOT_SCRUBBED):
        return value
    if scrubber.is_sensitive(key):
        from .scrub import FILTERED

        return FILTERED
    if value.__class__ is str:
        return scrubber.text(value)
    if value.__class__ is list and value and value[0].__class__ is str:
        return [scrubber.text(v) for v in value]
    return value


def make_batcher(client: Client, send: Any) -> Batcher:
    from .telemetry import Batcher

    scrubber = client.log_scrubber
    defaults = client.telemetry_defaults()
    return Batcher(
        send,
        LOG_ITEM,
        LOG_CONTENT_TYPE,
        lambda log: to_wire(log, scrubber, defaults),
        per_item=MAX_ITEMS_PER_LOG_ITEM,
        interval=client.options.logs_flush_interval,
        max_buffer=client.options.logs_buffer_size,
    )


def project_root() -> str:
    """The folder ``code.file.path`` is relative to (the working folder at first use)."""
    global _root
    if _root is None:
        try:
            _root = os.getcwd()
        except OSError:
            _root = ""
    return _root


_root: Optional[str] = None
