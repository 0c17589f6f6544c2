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

    def set_user(self, user: Optional[Dict[str, Any]]) -> None:
        data = serialize(user) if user else None
        self.user = data if isinstance(data, dict) else None

    def set_level(self, level: Optional[str]) -> None:
        self.level = level

    def set_fingerprint(self, fingerprint: Optional[List[str]]) -> None:
        self.fingerprint = [safe_str(x) for x in fingerprint] if fingerprint else None

    def set_transaction(self, name: Optional[str]) -> None:
        self.transaction = name

    def set_attribute(self, key: str, value: Any) -> None:
        """An attribute every log and metric captured in this scope carries."""
        from .telemetry import plain_value

        self.attributes[safe_str(key)] = plain_value(value)

    def set_attributes(self, attributes: Dict[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def remove_attribute(self, key: str) -> None:
        self.attributes.pop(key, None)

    def add_event_processor(self, processor: EventProcessor) -> None:
        self.event_processors.append(processor)

    def add_breadcrumb(self, crumb: Breadcrumb) -> None:
        self.breadcrumbs.append(crumb)

    def clear_breadcrumbs(self) -> None:
        self.breadcrumbs.clear()

    def clear(self) -> None:
        self.__init__(self._max_breadcrumbs)  # type: ignore[misc]


_global_scope = Scope()
_root_isolation = Scope()
_main_thread = threading.main_thread()
_isolation_var: ContextVar[Optional[Scope]] = ContextVar("releasetag_isolation", default=None)
_current_var: ContextVar[Optional[Scope]] = ContextVar("releasetag_current", default=None)


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
