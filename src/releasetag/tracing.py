"""Tracing calls of sentry-sdk, kept honest: spans carry trace ids, nothing measures time.

releasetag records no performance data and never sends a transaction. Code written for
sentry-sdk still runs unchanged: ``start_transaction``, ``start_span``, ``@trace`` and friends
return span objects that work as context managers (and ``@trace`` as a decorator). While a span
is active, its trace id and span id are the trace context (``contexts.trace``) of every event
captured inside it, and of the ``sentry-trace`` / ``baggage`` headers sent downstream. Outside
any span the trace is the isolation scope's (``integrations/_trace.py``), so an incoming
``sentry-trace`` header continues into everything the request reports.
"""

from __future__ import annotations

import functools
import inspect
import os
import time

from .current import get_client
from .integrations import _trace
from .scope import active_span, get_isolation_scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple, TypeVar

    from .types import Event

    F = TypeVar("F", bound=Callable[..., Any])


class Span:
    """One unit of work: ids for the trace context; tags and data are kept, never sent."""

    def __init__(
        self,
        trace_id: Optional[str] = None,
        span_id: Optional[str] = None,
        parent_span_id: Optional[str] = None,
        same_process_as_parent: bool = True,
        sampled: Optional[bool] = None,
        op: Optional[str] = None,
        description: Optional[str] = None,
        hub: Any = None,
        status: Optional[str] = None,
        containing_transaction: Optional["Transaction"] = None,
        start_timestamp: Any = None,
        scope: Any = None,
        origin: str = "manual",
        name: Optional[str] = None,
        **_ignored: Any,
    ) -> None:
        self.trace_id: str = trace_id if _is_hex(trace_id, 32) else os.urandom(16).hex()  # type: ignore[assignment]
        self.span_id: str = span_id if _is_hex(span_id, 16) else os.urandom(8).hex()  # type: ignore[assignment]
        self.parent_span_id = parent_span_id if _is_hex(parent_span_id, 16) else None
        self.same_process_as_parent = same_process_as_parent
        self.sampled = sampled if isinstance(sampled, bool) else None
        self.op = _text(op)
        self.description = _text(description if description is not None else name)
        self.status = _text(status)
        self.origin = _text(origin) or "manual"
        self.containing_transaction = containing_transaction
        self.start_timestamp = time.time()
        self.timestamp: Optional[float] = None
        self._tags: Dict[str, str] = {}
        self._data: Dict[str, Any] = {}
        self._token: Any = None

    # --- names sentry-sdk apps read and write -------------------------------------------
    @property
    def name(self) -> Optional[str]:
        return self.description

    @name.setter
    def name(self, value: Optional[str]) -> None:
        self.description = _text(value)

    def __repr__(self) -> str:
        ids = f"trace_id={self.trace_id!r}, span_id={self.span_id!r}"
        return f"<{type(self).__name__}(op={self.op!r}, {ids})>"

    # --- context manager ------------------------------------------------------------------
    def __enter__(self) -> "Span":
        self._token = active_span.set(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None and self.status is None:
            self.status = "internal_error"
        self.finish()
        token, self._token = self._token, None
        if token is not None:
            try:
                active_span.reset(token)
            except ValueError:  # left in another context (a generator, a callback): let it be
                if active_span.get() is self:
                    active_span.set(None)

    # --- the methods apps call --------------------------------------------------------------
    def start_child(self, **kwargs: Any) -> "Span":
        """A child span in the same trace (enter it with ``with`` to make it active)."""
        kwargs = _span_kwargs(kwargs)
        kwargs.update(trace_id=self.trace_id, parent_span_id=self.span_id, sampled=self.sampled)
        kwargs.setdefault("containing_transaction", self.containing_transaction)
        return Span(**kwargs)

    new_span = start_child

    def set_tag(self, key: str, value: Any) -> None:
        self._tags[str(key)] = str(value)

    def set_data(self, key: str, value: Any) -> None:
        self._data[str(key)] = value

    def update_data(self, data: Dict[str, Any]) -> None:
        if isinstance(data, dict):
            self._data.update(data)

    def set_attribute(self, key: str, value: Any) -> None:
        self.set_data(key, value)

    def set_flag(self, flag: str, result: bool) -> None:
        self._data[f"flag.evaluation.{flag}"] = result

    def set_status(self, value: str) -> None:
        self.status = _text(value)

    def set_http_status(self, http_status: int) -> None:
        self.set_tag("http.status_code", http_status)
        self.set_data("http.response.status_code", http_status)
        try:
            code = int(http_status)
        except (TypeError, ValueError):
            return
        self.status = "ok" if code < 400 else ("internal_error" if code >= 500 else "unknown_error")

    def set_measurement(self, name: str, value: float, unit: str = "") -> None:
        """Kept nowhere: releasetag records no performance data."""

    def set_thread(self, thread_id: Optional[int], thread_name: Optional[str]) -> None:
        if thread_id is not None:
            self.set_data("thread.id", str(thread_id))
        if thread_name is not None:
            self.set_data("thread.name", thread_name)

    def set_profiler_id(self, profiler_id: Optional[str]) -> None:
        """No profiler: nothing to keep."""

    def is_success(self) -> bool:
        return self.status == "ok"

    def finish(self, scope: Any = None, end_timestamp: Any = None, **_ignored: Any) -> None:
        """Mark the span finished; nothing is sent (releasetag sends no transactions)."""
        if self.timestamp is None:
            self.timestamp = time.time()
        return None

    # --- propagation ------------------------------------------------------------------------
    def to_traceparent(self) -> str:
        if self.sampled is None:
            return f"{self.trace_id}-{self.span_id}"
        return f"{self.trace_id}-{self.span_id}-{'1' if self.sampled else '0'}"

    def to_baggage(self) -> Optional[str]:
        return _baggage_for(self.trace_id)

    def iter_headers(self) -> Iterator[Tuple[str, str]]:
        yield _trace.HEADER, self.to_traceparent()
        baggage = self.to_baggage()
        if baggage:
            yield "baggage", baggage

    def get_trace_context(self) -> Dict[str, Any]:
        """The ``contexts.trace`` of events captured while this span is active."""
        ctx: Dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "op": self.op,
            "description": self.description,
            "origin": self.origin,
        }
        if self.status is not None:
            ctx["status"] = self.status
        return {k: v for k, v in ctx.items() if v is not None or k == "parent_span_id"}

    def to_json(self) -> Dict[str, Any]:
        out = self.get_trace_context()
        out.update(start_timestamp=self.start_timestamp, timestamp=self.timestamp)
        if self._tags:
            out["tags"] = dict(self._tags)
        if self._data:
            out["data"] = dict(self._data)
        return out

    def apply_to_event(self, event: Event, contexts: Dict[str, Any]) -> None:
        """Called by the client for each event captured while this span is active."""
        contexts["trace"] = self.get_trace_context()
        tx = self.containing_transaction
        if tx is not None and tx.name:
            event["transaction"] = tx.name
            event["transaction_info"] = {"source": tx.source}

    @classmethod
    def continue_from_headers(cls, headers: Mapping[str, Any], **kwargs: Any) -> "Transaction":
        return _transaction_from(headers, kwargs)

    @classmethod
    def continue_from_environ(cls, environ: Mapping[str, Any], **kwargs: Any) -> "Transaction":
        return _transaction_from(environ, kwargs)

    @classmethod
    def from_traceparent(cls, traceparent: Optional[str], **kwargs: Any) -> Optional["Transaction"]:
        if not traceparent:
            return None
        return _transaction_from({_trace.HEADER: traceparent}, kwargs)


class Transaction(Span):
    """The root span of a unit of work (a request, a job); its name names the events in it."""

    def __init__(
        self,
        name: str = "",
        parent_sampled: Optional[bool] = None,
        baggage: Any = None,
        source: str = "custom",
        **kwargs: Any,
    ) -> None:
        kwargs.pop("containing_transaction", None)
        super().__init__(**kwargs)
        self.description = _text(name) or self.description or ""
        self.source = _text(source) or "custom"
        self.parent_sampled = parent_sampled if isinstance(parent_sampled, bool) else None
        self._baggage = baggage if isinstance(baggage, str) else None
        self.containing_transaction = self
        self.sample_rate: Optional[float] = None

    def set_context(self, key: str, value: Dict[str, Any]) -> None:
        self._data[f"context.{key}"] = value

    def get_baggage(self) -> Optional[str]:
        return self.to_baggage()

    def to_baggage(self) -> Optional[str]:
        return self._baggage or _baggage_for(self.trace_id)


class NoOpSpan(Span):
    """What sentry-sdk returns where nothing is recorded; here the same as a plain span."""


# --- module-level calls (releasetag.start_span etc.) ------------------------------------------
def get_current_span(scope: Any = None) -> Optional[Span]:
    """The span entered last in this context (``with start_span(...)``), or None."""
    span = active_span.get()
    return span if isinstance(span, Span) else None


def start_transaction(
    transaction: Optional[Transaction] = None,
    instrumenter: str = "sentry",
    custom_sampling_context: Any = None,
    **kwargs: Any,
) -> Transaction:
    """A transaction (enter it with ``with``); a continued one (``continue_trace``) is taken
    as it is. Never sent."""
    if isinstance(transaction, Transaction):
        return transaction
    try:
        return Transaction(**_span_kwargs(kwargs))
    except Exception:
        return Transaction()


def start_span(**kwargs: Any) -> Span:
    """A span: a child of the active span, else a root span in the isolation scope's trace."""
    try:
        kwargs = _span_kwargs(kwargs)
        parent = get_current_span()
        if parent is not None:
            return parent.start_child(**kwargs)
        prop = _trace.ensure_trace(get_isolation_scope())
        kwargs.update(trace_id=prop["trace_id"], parent_span_id=prop["span_id"])
        kwargs.setdefault("sampled", prop.get("sampled"))
        return Span(**kwargs)
    except Exception:
        return Span()


def continue_trace(
    environ_or_headers: Any,
    op: Optional[str] = None,
    name: Optional[str] = None,
    source: Optional[str] = None,
    origin: str = "manual",
) -> Transaction:
    """Continue the trace of incoming ``sentry-trace`` / ``baggage`` headers (a headers dict or a
    WSGI environ): the isolation scope takes it, and the returned transaction is in it."""
    kwargs: Dict[str, Any] = {"op": op, "name": name, "origin": origin}
    if source:
        kwargs["source"] = source
    try:
        return _transaction_from(environ_or_headers, kwargs, get_isolation_scope())
    except Exception:
        return Transaction(**_span_kwargs(kwargs))


def get_traceparent() -> Optional[str]:
    """The ``sentry-trace`` header value to send downstream from here."""
    try:
        return _trace.trace_header()
    except Exception:
        return None


def get_baggage() -> Optional[str]:
    """The ``baggage`` header value to send downstream from here."""
    try:
        span = get_current_span()
        if span is not None:
            tx = span.containing_transaction
            return tx.to_baggage() if tx is not None else span.to_baggage()
        prop = _trace.ensure_trace(get_isolation_scope())
        return prop.get("baggage") or _baggage_for(prop["trace_id"])
    except Exception:
        return None


def trace_propagation_headers() -> Dict[str, str]:
    """``sentry-trace`` and ``baggage`` for an outgoing request (integrations/stdlib.py)."""
    out: Dict[str, str] = {}
    value = get_traceparent()
    if value:
        out[_trace.HEADER] = value
    baggage = get_baggage()
    if baggage:
        out["baggage"] = baggage
    return out


def current_trace_context() -> Dict[str, Any]:
    """The trace context (``trace_id``, ``span_id``, ...) for anything captured here now: the
    active span's, else the isolation scope's. Logs and check-ins take it from here."""
    span = get_current_span()
    if span is not None:
        return span.get_trace_context()
    return _trace.trace_context(_trace.ensure_trace(get_isolation_scope()))


def set_measurement(name: str, value: float, unit: str = "") -> None:
    """Accepted and dropped: releasetag records no performance data."""


def update_current_span(
    op: Optional[str] = None,
    name: Optional[str] = None,
    attributes: Optional[Dict[str, Any]] = None,
    data: Optional[Dict[str, Any]] = None,
) -> None:
    """Change the active span's op, name and data (no-op outside a span)."""
    span = get_current_span()
    if span is None:
        return
    if op is not None:
        span.op = _text(op)
    if name is not None:
        span.name = name
    for extra in (attributes, data):
        if isinstance(extra, dict):
            span.update_data(extra)


def trace(
    func: Optional[Callable[..., Any]] = None,
    *,
    op: Optional[str] = None,
    name: Optional[str] = None,
    attributes: Optional[Dict[str, Any]] = None,
    template: Any = None,
) -> Any:
    """Decorator: run the function (sync or async) inside a span named after it.

    ``@trace`` and ``@trace(op=..., name=...)`` both work."""

    def decorate(fn: F) -> F:
        span_name = name or getattr(fn, "__qualname__", None) or repr(fn)

        def begin() -> Span:
            span = start_span(op=op or "function", name=span_name)
            if isinstance(attributes, dict):
                span.update_data(attributes)
            return span

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with begin():
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with begin():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    if func is not None and callable(func):
        return decorate(func)
    return decorate


# --- helpers ------------------------------------------------------------------------------------
def _is_hex(value: Any, length: int) -> bool:
    if not isinstance(value, str) or len(value) != length:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    try:
        return value if isinstance(value, str) else str(value)
    except Exception:
        return None


_SPAN_ARGS = frozenset(inspect.signature(Span.__init__).parameters) - {"self", "_ignored"}
_TX_ARGS = _SPAN_ARGS | {"parent_sampled", "baggage", "source"}


def _span_kwargs(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Keyword arguments sentry-sdk accepts (unknown ones are dropped, never an error)."""
    return {k: v for k, v in kwargs.items() if k in _TX_ARGS}


def _baggage_for(trace_id: str) -> Optional[str]:
    client = get_client()
    items = [f"sentry-trace_id={trace_id}"]
    if client is not None:
        opts = client.options
        if opts.environment:
            items.append(f"sentry-environment={_quote(opts.environment)}")
        if opts.release:
            items.append(f"sentry-release={_quote(opts.release)}")
        if client.dsn is not None:
            items.append(f"sentry-public_key={client.dsn.public_key}")
    return ",".join(items)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="@:/+")


def _header(carrier: Any, name: str) -> Optional[str]:
    """The first valid value of header ``name`` in a headers mapping or WSGI environ."""
    if not hasattr(carrier, "get"):
        return None
    keys = (name, name.title(), name.upper(), "HTTP_" + name.upper().replace("-", "_"))
    for key in keys:
        try:
            value = carrier.get(key)
        except Exception:
            value = None
        for one in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(one, bytes):
                one = one.decode("latin-1")
            if isinstance(one, str) and one.strip():
                for part in one.split(",") if name == _trace.HEADER else [one]:
                    if name != _trace.HEADER or _trace.parse_header(part) is not None:
                        return part.strip()
    return None


def _transaction_from(carrier: Any, kwargs: Dict[str, Any], scope: Any = None) -> Transaction:
    kwargs = _span_kwargs(kwargs)
    header = _header(carrier, _trace.HEADER)
    parsed = _trace.parse_header(header) if header else None
    baggage = _header(carrier, "baggage")
    sentry_items = _sentry_baggage(baggage) if parsed else None
    if scope is not None:
        if parsed is not None:
            _trace.continue_trace(scope, header, sentry_items)
        else:  # sentry-sdk starts a new trace for the scope when there is nothing to continue
            _trace.new_trace(scope)
    if parsed is None:
        return Transaction(**kwargs)
    trace_id, parent_span_id, sampled = parsed
    kwargs.update(trace_id=trace_id, parent_span_id=parent_span_id, parent_sampled=sampled)
    kwargs.update(sampled=sampled, baggage=sentry_items, same_process_as_parent=False)
    return Transaction(**kwargs)


def _sentry_baggage(value: Optional[str]) -> Optional[str]:
    """The ``sentry-`` items of an incoming baggage header (the upstream's frozen context)."""
    if not value:
        return None
    items = [p.strip() for p in value.split(",") if p.strip().startswith("sentry-")]
    return ",".join(items) or None
