"""Trace propagation: one trace id per request / task, carried in ``sentry-trace`` headers.

The ids live in the isolation scope (``scope.propagation``) and, once made, in the scope's
``trace`` context, so every event of that request or task carries ``contexts.trace``. They are
made lazily: a request that never reports and never queues a task pays nothing for them.
While a span is active (``releasetag.tracing``), its ids take precedence: the span is the
one place the trace context and the outgoing header come from.
"""

from __future__ import annotations

import os
import re

from ..scope import Scope, active_span, get_isolation_scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple

    from ..types import Event

HEADER = "sentry-trace"
_HEADER_RE = re.compile(r"^\s*([0-9a-fA-F]{32})-?([0-9a-fA-F]{16})?-?([01])?\s*$")
#: the keys of ``scope.propagation`` that make the trace context (the rest: sampled, baggage)
_CONTEXT_KEYS = ("trace_id", "span_id", "parent_span_id")


def parse_header(header: Any) -> Optional[Tuple[str, Optional[str], Optional[bool]]]:
    """(trace id, parent span id, sampled) of a ``sentry-trace`` value, or None if invalid."""
    if not header or not isinstance(header, str):
        return None
    match = _HEADER_RE.match(header)
    if match is None:
        return None
    flag = match.group(3)
    parent = match.group(2)
    return (
        match.group(1).lower(),
        parent.lower() if parent else None,
        None if flag is None else flag == "1",
    )


def continue_trace(scope: Scope, header: Optional[str], baggage: Optional[str] = None) -> None:
    """Make ``scope`` continue the trace of an incoming ``sentry-trace`` header (if valid);
    ``baggage``: the upstream's ``sentry-`` baggage items, passed on downstream unchanged."""
    parsed = parse_header(header)
    if parsed is None:
        return
    prop: Dict[str, Any] = {"trace_id": parsed[0], "span_id": os.urandom(8).hex()}
    if parsed[1]:
        prop["parent_span_id"] = parsed[1]
    if parsed[2] is not None:
        prop["sampled"] = parsed[2]
    if baggage:
        prop["baggage"] = baggage
    _apply(scope, prop)


def new_trace(scope: Scope) -> Dict[str, Any]:
    """Start a new trace in ``scope``."""
    prop = {"trace_id": os.urandom(16).hex(), "span_id": os.urandom(8).hex()}
    _apply(scope, prop)
    return prop


def ensure_trace(scope: Optional[Scope] = None) -> Dict[str, Any]:
    """The scope's trace ids, made now if it has none yet."""
    scope = scope if scope is not None else get_isolation_scope()
    prop = scope.propagation
    if "trace_id" not in prop:
        prop = new_trace(scope)
    return prop


def trace_context(prop: Dict[str, Any]) -> Dict[str, Any]:
    """The ``contexts.trace`` made from a scope's propagation ids."""
    return {key: prop[key] for key in _CONTEXT_KEYS if key in prop}


def _apply(scope: Scope, prop: Dict[str, Any]) -> None:
    scope.propagation = prop
    scope.contexts["trace"] = trace_context(prop)


def trace_header(scope: Optional[Scope] = None) -> str:
    """The ``sentry-trace`` value to send downstream: the active span's, else ``scope``'s."""
    span = active_span.get()
    if span is not None and scope is None:
        return str(span.to_traceparent())
    prop = ensure_trace(scope)
    sampled = prop.get("sampled")
    if sampled is None:
        return f"{prop['trace_id']}-{prop['span_id']}"
    return f"{prop['trace_id']}-{prop['span_id']}-{'1' if sampled else '0'}"


def add_trace_context(event: Event, scope: Scope) -> None:
    """Put the scope's trace context into ``event`` (made now if needed)."""
    prop = ensure_trace(scope)
    contexts = event.get("contexts")
    if not isinstance(contexts, dict):
        contexts = event["contexts"] = {}
    contexts.setdefault("trace", trace_context(prop))
