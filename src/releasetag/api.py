"""The public API: init, capture_*, breadcrumbs, scope setters, flush and close.

Every function is safe to call before init() or without a DSN (a cheap no-op), and none
raises into the host application except init() for invalid configuration.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

from . import scope as scope_mod
from releasetag.protocol.log import get_logger
from .scope import Scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterator, Optional

_client: Any = None
_lock = threading.Lock()
_fork_hook_installed = False


def get_client() -> Any:
    """The client init() configured, or None."""
    return _client


def init(dsn: Optional[str] = None, **options: Any) -> Any:
    """Configure releasetag; returns the client. See README for every option.

    Raises ValueError for a malformed DSN or an invalid explicit release.
    """
    global _client
    from .client import Client
    from .integrations import setup_integrations

    client = Client(dsn, **options)
    logger = get_logger() if client.options.debug else None  # else: made at first log call
    if logger is not None and not logger.handlers[1:]:
        import logging
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[releasetag] %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    with _lock:
        previous, _client = _client, client
    if previous is not None:
        previous.close(timeout=client.options.shutdown_timeout)
    scope_mod.get_isolation_scope().set_max_breadcrumbs(client.options.max_breadcrumbs)
    scope_mod.get_global_scope().set_max_breadcrumbs(client.options.max_breadcrumbs)
    if client.active:
        client.integrations = setup_integrations(client, client.options.integrations,
                                                 client.options.default_integrations)
        client._set_sdk_info()
        _install_fork_hook()
        if client.options.flush_on_sigterm:
            from .integrations.exit import install_sigterm_flush
            install_sigterm_flush()
    return client


def _install_fork_hook() -> None:
    global _fork_hook_installed
    if _fork_hook_installed or not hasattr(os, "register_at_fork"):
        return
    _fork_hook_installed = True
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    """Fresh delivery state in the child; flush at ``os._exit`` (multiprocessing, billiard)."""
    client = _client
    transport = getattr(client, "transport", None)
    if transport is None:
        return
    reinit = getattr(transport, "reinit_after_fork", None)
    if reinit is not None:
        try:
            reinit()
            from .integrations.exit import install_os_exit_flush
            install_os_exit_flush()
        except Exception:
            pass


def capture_exception(error: Any = None, **kwargs: Any) -> Optional[str]:
    """Capture ``error`` (default: the exception being handled); return the event id."""
    client = _client
    return client.capture_exception(error, **kwargs) if client is not None else None


def capture_message(text: Any, level: str = "info", **kwargs: Any) -> Optional[str]:
    """Capture a message at ``level``; return the event id."""
    client = _client
    return client.capture_message(text, level, **kwargs) if client is not None else None


def capture_event(event: Dict[str, Any], hint: Optional[Dict[str, Any]] = None) -> Optional[str]:
    client = _client
    return client.capture_event(event, hint) if client is not None else None


def add_breadcrumb(crumb: Optional[Dict[str, Any]] = None, hint: Optional[Dict[str, Any]] = None,
                   **fields: Any) -> None:
    """Record a breadcrumb: ``add_breadcrumb(message=..., category=..., level=..., data=...)``."""
    client = _client
    if client is None or not client.active:
        return
    data = dict(crumb or {})
    data.update(fields)
    client.add_breadcrumb(data, hint)


def _writable() -> Scope:
    return scope_mod.get_writable_scope()


def set_tag(key: str, value: Any) -> None:
    _safe(lambda: _writable().set_tag(key, value))


def set_tags(tags: Dict[str, Any]) -> None:
    _safe(lambda: _writable().set_tags(tags))


def set_extra(key: str, value: Any) -> None:
    _safe(lambda: _writable().set_extra(key, value))


def set_context(key: str, value: Optional[Dict[str, Any]]) -> None:
    _safe(lambda: _writable().set_context(key, value))


def set_user(user: Optional[Dict[str, Any]]) -> None:
    _safe(lambda: _writable().set_user(user))


def set_level(level: str) -> None:
    _safe(lambda: _writable().set_level(level))


def _safe(fn: Any) -> None:
    try:
        fn()
    except Exception:
        get_logger().debug("scope update failed", exc_info=True)


def last_event_id() -> Optional[str]:
    """The id of the last event this process captured and queued, or None."""
    client = _client
    return client.last_event_id if client is not None else None


def flush(timeout: Optional[float] = None) -> bool:
    """Wait until queued events are delivered; False if ``timeout`` passed first."""
    client = _client
    return client.flush(timeout) if client is not None else True


def close(timeout: Optional[float] = None) -> bool:
    """Flush within ``timeout`` and stop sending; later calls are no-ops until init()."""
    global _client
    with _lock:
        client, _client = _client, None
    return client.close(timeout) if client is not None else True


def delivery_stats() -> Dict[str, Any]:
    """Delivery counts of this process.

    ``sent``, ``queued`` (in memory), ``backlog`` (waiting for a retry, in memory or in the
    spool), ``spooled`` (written to the spool so far), ``retries``, ``dropped`` ({reason:
    count}, the reasons client reports carry) and ``dropped_total``.
    """
    client = _client
    if client is None:
        return {"sent": 0, "queued": 0, "backlog": 0, "spooled": 0, "retries": 0,
                "dropped": {}, "dropped_total": 0}
    return client.delivery_stats()


@contextmanager
def new_scope() -> Iterator[Scope]:
    """A temporary scope: tags and context set on it end with the ``with`` block."""
    with scope_mod.new_scope() as scope:
        yield scope


@contextmanager
def isolation_scope() -> Iterator[Scope]:
    """A fresh isolation scope, e.g. for one request or background task."""
    with scope_mod.isolation_scope() as scope:
        yield scope
