"""Trace propagation: one trace id per request / task, carried in ``sentry-trace`` headers.

The ids live in the isolation scope (``scope.propagation``) and, once made, in the scope's
``trace`` context, so every event of that request or task carries ``contexts.trace``. They are
made lazily: a request that never reports and never queues a task pays nothing for them.
"""

from __future__ import annotations

import os
import re

from ..scope import Scope, get_isolation_scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

    from ..types import Event

HEADER = "sentry-trace"
_HEADER_RE = re.compile(r"^\s*([0-9a-f]{32})?-?([0-9a-f]{16})?-?([01])?\s*$")


def continue_trace(scope: Scope, header: Optional[str]) -> None:
    """Make ``scope`` continue the trace of an incoming ``sentry-trace`` header (if valid)."""
    if not header or not isinstance(header, str):
        return
    match = _HEADER_RE.match(header)
    if match is None or match.group(1) is None:
        return
    prop: Dict[str, Any] = {"trace_id": match.group(1), "span_id": os.urandom(8).hex()}
    if match.group(2):
        prop["parent_span_id"] = match.group(2)
    _apply(scope, prop)


def ensure_trace(scope: Optional[Scope] = None) -> Dict[str, Any]:
    """The scope's trace ids, made now if it has none yet."""
    scope = scope if scope is not None else get_isolation_scope()
    prop = scope.propagation
    if "trace_id" not in prop:
        prop = {"trace_id": os.urandom(16).hex(), "span_id": os.urandom(8).hex()}
        _apply(scope, prop)
    return prop


def _apply(scope: Scope, prop: Dict[str, Any]) -> None:
    scope.propagation = prop
    scope.contexts["trace"] = dict(prop)


def trace_header(scope: Optional[Scope] = None) -> str:
    """The ``sentry-trace`` value to send downstream from ``scope``."""
    prop = ensure_trace(scope)
    return f"{prop['trace_id']}-{prop['span_id']}"


def add_trace_context(event: Event, scope: Scope) -> None:
    """Put the scope's trace context into ``event`` (made now if needed)."""
    prop = ensure_trace(scope)
    contexts = event.get("contexts")
    if not isinstance(contexts, dict):
        contexts = event["contexts"] = {}
    contexts.setdefault("trace", dict(prop))
