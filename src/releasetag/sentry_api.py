"""sentry-sdk's remaining public names: push_scope, configure_scope, the scope getters,
is_initialized, Hub, flush_async, add_attachment, set_transaction_name and profiler.

They keep sentry-sdk's signatures and meaning on top of releasetag's scopes (scope.py):
``get_current_scope()`` is the temporary scope inside ``new_scope()``/``push_scope()``,
otherwise the isolation scope (where module-level ``set_*`` calls write).
"""

from __future__ import annotations

from contextlib import contextmanager

from . import api, current
from . import scope as scope_mod
from .options_compat import warn_once
from .scope import Scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional

    from .client import Client
    from .types import Breadcrumb, Hint


def get_current_scope() -> Scope:
    """The scope ``set_tag`` & co. write to now (never None, as in sentry-sdk)."""
    return scope_mod.get_writable_scope()


def get_isolation_scope() -> Scope:
    return scope_mod.get_isolation_scope()


def get_global_scope() -> Scope:
    return scope_mod.get_global_scope()


def is_initialized() -> bool:
    """True when init() configured a client that sends events."""
    client = current.get_client()
    return client is not None and client.active


@contextmanager
def _pushed() -> Iterator[Scope]:
    with scope_mod.new_scope() as scope:
        yield scope


def push_scope(callback: Optional[Callable[[Scope], None]] = None) -> Any:
    """sentry-sdk 1.x's ``push_scope``: a temporary scope (``with push_scope() as scope:``),
    or, given ``callback``, call it with one and drop the scope afterwards."""
    if callback is None:
        return _pushed()
    with _pushed() as scope:
        callback(scope)
    return None


@contextmanager
def _configured() -> Iterator[Scope]:
    yield get_isolation_scope()


def configure_scope(callback: Optional[Callable[[Scope], None]] = None) -> Any:
    """sentry-sdk 1.x's ``configure_scope``: the isolation scope (what sentry-sdk 2 gives),
    so changes last beyond a surrounding ``new_scope()``."""
    if callback is None:
        return _configured()
    callback(get_isolation_scope())
    return None


def add_attachment(
    bytes: Any = None,  # noqa: A002 - sentry-sdk's argument name
    filename: Optional[str] = None,
    path: Optional[str] = None,
    content_type: Optional[str] = None,
    add_to_transactions: bool = False,
) -> None:
    """A file sent with every later event of this request / task / thread."""
    get_isolation_scope().add_attachment(bytes, filename, path, content_type, add_to_transactions)


def set_transaction_name(name: str, source: Optional[str] = None) -> None:
    get_current_scope().set_transaction_name(name, source)


async def flush_async(
    timeout: Optional[float] = None, callback: Optional[Callable[..., Any]] = None
) -> None:
    """``flush`` without blocking the event loop (it runs in the loop's executor)."""
    import asyncio

    await asyncio.get_running_loop().run_in_executor(None, api.flush, timeout)


class _Profiler:
    """sentry-sdk's ``profiler`` module: releasetag does not profile (one line says so)."""

    def start_profiler(self) -> None:
        warn_once("profiler", "releasetag does not profile: no profile is sent")

    def stop_profiler(self) -> None:
        warn_once("profiler", "releasetag does not profile: no profile is sent")


profiler = _Profiler()


class Hub:
    """sentry-sdk 1.x's ``Hub``, as far as apps still use it: ``Hub.current`` with capture,
    breadcrumb and scope calls, ``client``, ``scope``, ``flush`` and ``with Hub(...)``."""

    current: Hub
    main: Hub

    def __init__(self, client_or_hub: Any = None, scope: Any = None) -> None:
        self._client = client_or_hub if not isinstance(client_or_hub, Hub) else None

    @property
    def client(self) -> Optional[Client]:
        return self._client or current.get_client()

    @property
    def scope(self) -> Scope:
        return get_isolation_scope()  # as sentry-sdk 2's Hub

    def __enter__(self) -> Hub:
        self._pushed = scope_mod.new_scope()
        self._pushed.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pushed.__exit__(*exc)

    def capture_exception(self, error: Any = None, scope: Any = None, **kw: Any) -> Any:
        return api.capture_exception(error, scope, **kw)

    def capture_message(self, message: Any, level: Any = None, scope: Any = None, **kw: Any) -> Any:
        return api.capture_message(message, level, scope, **kw)

    def capture_event(self, event: Any, hint: Any = None, scope: Any = None, **kw: Any) -> Any:
        return api.capture_event(event, hint, scope, **kw)

    def add_breadcrumb(
        self, crumb: Optional[Breadcrumb] = None, hint: Optional[Hint] = None, **kw: Any
    ) -> None:
        api.add_breadcrumb(crumb, hint, **kw)

    def configure_scope(self, callback: Optional[Callable[[Scope], None]] = None) -> Any:
        return configure_scope(callback)

    def push_scope(self, callback: Optional[Callable[[Scope], None]] = None) -> Any:
        return push_scope(callback)

    def last_event_id(self) -> Optional[str]:
        return api.last_event_id()

    def flush(self, timeout: Optional[float] = None, callback: Any = None) -> None:
        api.flush(timeout)

    def get_integration(self, name_or_class: Any) -> Any:
        client = self.client
        name = getattr(name_or_class, "identifier", name_or_class)
        return client.integrations.get(name) if client is not None else None

    def bind_client(self, client: Any) -> None:
        self._client = client


Hub.current = Hub.main = Hub()
