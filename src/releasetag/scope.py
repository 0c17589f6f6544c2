"""Scopes on contextvars: global, isolation (per thread / request / task) and temporary.

An event takes data from the global scope, then the isolation scope, then the current
temporary scope (later wins). ``set_tag`` and friends at module level write to the isolation
scope; ``new_scope()`` gives a temporary copy that ends with its ``with`` block.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar

from .serialize import safe_str, serialize, truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Deque, Dict, Iterator, List, Optional

    from .session_tracking import RequestSession
    from .types import Breadcrumb, EventProcessor


MAX_TAG_KEY = 200
MAX_TAG_VALUE = 200


class Scope:
    """Tags, extra, contexts, user, level, fingerprint and breadcrumbs for events."""

    __slots__ = (
        "tags",
        "extra",
        "contexts",
        "user",
        "level",
        "fingerprint",
        "transaction",
        "breadcrumbs",
        "event_processors",
        "propagation",
        "session",
        "attachments",
        "attributes",
        "_max_breadcrumbs",
        "__weakref__",  # request processors point back at their scope weakly (no cycle)
    )

    def __init__(self, max_breadcrumbs: int = 100) -> None:
        self.tags: Dict[str, str] = {}
        self.extra: Dict[str, Any] = {}
        self.contexts: Dict[str, Dict[str, Any]] = {}
        self.user: Optional[Dict[str, Any]] = None
        self.level: Optional[str] = None
        self.fingerprint: Optional[List[str]] = None
        self.transaction: Optional[str] = None
        self.breadcrumbs: Deque[Dict[str, Any]] = deque(maxlen=max_breadcrumbs)
        self.event_processors: List[EventProcessor] = []
        self.propagation: Dict[str, Any] = {}
        self.session: Optional[RequestSession] = None  # the request's or task's session
        self.attachments: List[Any] = []  # compat_events.Attachment, sent with each event
        self.attributes: Dict[str, Any] = {}  # for logs and metrics (logs.py)
        self._max_breadcrumbs = max_breadcrumbs

    def fork(self) -> "Scope":
        """A copy whose changes do not reach this scope."""
        new = Scope.__new__(Scope)
        new.tags = dict(self.tags)
        new.extra = dict(self.extra)
        new.contexts = dict(self.contexts)
        new.user = dict(self.user) if self.user else self.user
        new.level = self.level
        new.fingerprint = self.fingerprint
        new.transaction = self.transaction
        new.breadcrumbs = deque(self.breadcrumbs, maxlen=self.breadcrumbs.maxlen)
        new.event_processors = list(self.event_processors)
        new.propagation = dict(self.propagation)
        new.session = self.session
        new.attachments = list(self.attachments)
        new.attributes = dict(self.attributes)
        new._max_breadcrumbs = self._max_breadcrumbs
        return new

    def set_max_breadcrumbs(self, n: int) -> None:
        if n != self.breadcrumbs.maxlen:
            self.breadcrumbs = deque(self.breadcrumbs, maxlen=n)

    def set_tag(self, key: str, value: Any) -> None:
        self.tags[truncate(safe_str(key), MAX_TAG_KEY)] = truncate(safe_str(value), MAX_TAG_VALUE)

    def set_tags(self, tags: Dict[str, Any]) -> None:
        for key, value in tags.items():
            self.set_tag(key, value)

    def remove_tag(self, key: str) -> None:
        self.tags.pop(key, None)

    def set_extra(self, key: str, value: Any) -> None:
        self.extra[safe_str(key)] = serialize(value)

    def set_context(self, key: str, value: Optional[Dict[str, Any]]) -> None:
        if value is None:
            self.contexts.pop(key, None)
        else:
            data = serialize(value)
            self.contexts[safe_str(key)] = data if isinstance(data, dict) else {"value": data}

    def set_user(self, value: Optional[Dict[str, Any]]) -> None:
        data = serialize(value) if value else None
        self.user = data if isinstance(data, dict) else None

    def set_level(self, value: Optional[str]) -> None:
        self.level = value

    def set_fingerprint(self, fingerprint: Optional[List[str]]) -> None:
        self.fingerprint = [safe_str(x) for x in fingerprint] if fingerprint else None

    def set_transaction(self, name: Optional[str]) -> None:
        self.transaction = name

    def add_event_processor(self, func: EventProcessor) -> None:
        self.event_processors.append(func)

    def set_attribute(self, attribute: str, value: Any) -> None:
        """An attribute every log and metric captured in this scope carries."""
        from .telemetry import plain_value

        self.attributes[safe_str(attribute)] = plain_value(value)

    def set_attributes(self, attributes: Dict[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def remove_attribute(self, attribute: str) -> None:
        self.attributes.pop(attribute, None)

    def add_breadcrumb(self, crumb: Breadcrumb) -> None:
        self.breadcrumbs.append(crumb)

    def clear_breadcrumbs(self) -> None:
        self.breadcrumbs.clear()

    def clear(self) -> None:
        self.__init__(self._max_breadcrumbs)  # type: ignore[misc]

    # --- sentry-sdk's Scope methods (sentry_api.py has the module-level functions) ---------
    def remove_extra(self, key: str) -> None:
        self.extra.pop(key, None)

    def remove_context(self, key: str) -> None:
        self.contexts.pop(key, None)

    def set_transaction_name(self, name: str, source: Optional[str] = None) -> None:
        self.transaction = name

    def add_attachment(
        self,
        bytes: Any = None,  # noqa: A002 - sentry-sdk's argument name
        filename: Optional[str] = None,
        path: Optional[str] = None,
        content_type: Optional[str] = None,
        add_to_transactions: bool = False,
    ) -> None:
        """A file sent with every event captured while this scope applies."""
        from .compat_events import Attachment

        self.attachments.append(Attachment(bytes, filename, path, content_type))

    def clear_attachments(self) -> None:
        self.attachments = []

    def capture_exception(
        self, error: Any = None, scope: Any = None, **scope_kwargs: Any
    ) -> Optional[str]:
        """Capture ``error`` with this scope's data on top (sentry-sdk's ``scope=`` and
        ``tags=``, ``extra=``, ``user=``... apply on top of that)."""
        client, layer, event = capture_args(self, scope, scope_kwargs)
        if client is None:
            return None
        return client.capture_exception(error, scope=layer, event=event)

    def capture_message(
        self, message: Any, level: Optional[str] = None, scope: Any = None, **scope_kwargs: Any
    ) -> Optional[str]:
        client, layer, event = capture_args(self, scope, scope_kwargs)
        if client is None:
            return None
        return client.capture_message(message, level or "info", scope=layer, event=event)

    def capture_event(
        self, event: Any, hint: Any = None, scope: Any = None, **scope_kwargs: Any
    ) -> Optional[str]:
        client, layer, _ = capture_args(self, scope, scope_kwargs)
        if client is None:
            return None
        return client.capture_event(event, hint, scope=layer)


# sentry-sdk's names (``extras``), and ``extra`` as in set_extra (sentry-sdk drops the event)
_SCOPE_KWARGS = ("tags", "extras", "extra", "user", "contexts", "level", "fingerprint")


def capture_args(base: Optional[Scope], scope: Any, kwargs: Dict[str, Any]) -> Any:
    """(client, the scope layer for the event, event fields) of a sentry-sdk style capture
    call: ``scope`` (a Scope, or a callable given a copy) or keyword arguments, not both."""
    from . import current

    if scope is None and not kwargs:  # the plain call: no extra layer (the fast path)
        chained = base is None or base in scopes_for_event()
        return current.get_client(), None if chained else base, None
    unknown = set(kwargs) - set(_SCOPE_KWARGS)
    if unknown or (scope is not None and kwargs):  # sentry-sdk drops such an event silently
        from releasetag.protocol.log import get_logger

        get_logger().warning(
            "capture call: %s ignored (scope= or %s)",
            ", ".join(sorted(unknown)) or "scope",
            "/".join(_SCOPE_KWARGS),
        )
        scope = None
    layer = base.fork() if base is not None else Scope(get_isolation_scope()._max_breadcrumbs)
    if base is None or base in scopes_for_event():  # its data already reaches the event
        layer.breadcrumbs.clear()
        layer.event_processors = []
        layer.attachments = []
    if callable(scope):
        scope(layer)
    elif isinstance(scope, Scope):
        layer = scope
    for key, value in (kwargs.get("tags") or {}).items():
        layer.set_tag(key, value)
    for key, value in {**(kwargs.get("extras") or {}), **(kwargs.get("extra") or {})}.items():
        layer.set_extra(key, value)
    for key, value in (kwargs.get("contexts") or {}).items():
        layer.set_context(key, value)
    if "user" in kwargs:
        layer.set_user(kwargs["user"])
    if "fingerprint" in kwargs:
        layer.set_fingerprint(kwargs["fingerprint"])
    if kwargs.get("level"):
        layer.set_level(kwargs["level"])
    event = {"level": kwargs["level"]} if kwargs.get("level") else None
    return current.get_client(), layer, event


_global_scope = Scope()
_root_isolation = Scope()
_main_thread = threading.main_thread()
_isolation_var: ContextVar[Optional[Scope]] = ContextVar("releasetag_isolation", default=None)
_current_var: ContextVar[Optional[Scope]] = ContextVar("releasetag_current", default=None)
#: the span entered last (``releasetag.tracing``): its ids are the trace context of events
active_span: ContextVar[Any] = ContextVar("releasetag_span", default=None)


def get_global_scope() -> Scope:
    """The process-wide scope applied to every event."""
    return _global_scope


def get_isolation_scope() -> Scope:
    """The isolation scope of this request / task / thread.

    Threads other than the main thread get their own copy of the root isolation scope on
    first use, so that data set in one worker thread never leaks into another.
    """
    scope = _isolation_var.get()
    if scope is None:
        if threading.current_thread() is _main_thread:
            return _root_isolation
        scope = _root_isolation.fork()
        _isolation_var.set(scope)
    return scope


def get_current_scope() -> Optional[Scope]:
    """The innermost temporary scope, or None outside ``new_scope()``."""
    return _current_var.get()


def get_writable_scope() -> Scope:
    """Where module-level ``set_*`` calls write: the temporary scope inside ``new_scope()``,
    otherwise the isolation scope."""
    return _current_var.get() or get_isolation_scope()


@contextmanager
def new_scope() -> Iterator[Scope]:
    """A temporary scope: changes made to it end with the ``with`` block."""
    parent = _current_var.get()
    scope = parent.fork() if parent is not None else Scope(get_isolation_scope()._max_breadcrumbs)
    token = _current_var.set(scope)
    try:
        yield scope
    finally:
        _current_var.reset(token)


class use_isolation_scope:  # noqa: N801 - used like a function: ``with use_isolation_scope(s):``
    """Make ``scope`` the isolation scope (with no temporary scope) until the block ends.

    Integrations use it for each request or task. Where entering and leaving happen in
    different callbacks (Celery's signals), call ``__enter__`` and keep the object for
    ``__exit__``. A context manager class, not a generator: it sits on the request path.
    """

    __slots__ = ("scope", "_tokens")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._tokens: Any = None

    def __enter__(self) -> Scope:
        self._tokens = (_isolation_var.set(self.scope), _current_var.set(None))
        return self.scope

    def __exit__(self, *exc: Any) -> None:
        tokens, self._tokens = self._tokens, None
        if tokens is not None:
            _current_var.reset(tokens[1])
            _isolation_var.reset(tokens[0])


def isolation_scope() -> use_isolation_scope:
    """A fresh isolation scope (a fork of the current one), e.g. for one request or task."""
    return use_isolation_scope(get_isolation_scope().fork())


def scopes_for_event(extra: Optional[Scope] = None) -> List[Scope]:
    """The scopes whose data an event gets, outermost first."""
    scopes = [_global_scope, get_isolation_scope()]
    current = _current_var.get()
    if current is not None:
        scopes.append(current)
    if extra is not None and extra is not current:
        scopes.append(extra)
    return scopes


def reset_all_scopes(max_breadcrumbs: Optional[int] = None) -> None:
    """Clear every scope (used by init() in tests and by the fork handler)."""
    for scope in (_global_scope, _root_isolation):
        scope.clear()
        if max_breadcrumbs is not None:
            scope.set_max_breadcrumbs(max_breadcrumbs)
