"""The public API: init, capture_*, breadcrumbs, scope setters, flush and close.

Every function is safe to call before init() or without a DSN (a cheap no-op), and none
raises into the host application except init() for invalid configuration.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from . import current
from . import scope as scope_mod
from .current import get_client as get_client  # re-exported
from .protocol.log import get_logger, internal_error
from .scope import Scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, Iterator, Optional, Pattern, Sequence, Type, Union

    from .client import Client
    from .integrations import Integration
    from .transport.base import Transport
    from .transport.retry import RetryPolicy
    from .types import Breadcrumb, BreadcrumbProcessor, Event, EventProcessor, Hint

_lock = threading.Lock()

if TYPE_CHECKING:
    # What type checkers and editors see: every option by name and type, so a misspelt or
    # mistyped option is an error there. The names are Options' (tests/core/test_typed_api.py
    # checks that both lists agree). At run time init() takes **options (no typing import).

    def init(
        dsn: Optional[str] = None,
        *,
        release: Optional[str] = None,
        environment: Optional[str] = None,
        dist: Optional[str] = None,
        server_name: Optional[str] = None,
        sample_rate: Optional[float] = None,
        before_send: Optional[EventProcessor] = None,
        before_breadcrumb: Optional[BreadcrumbProcessor] = None,
        max_breadcrumbs: Optional[int] = None,
        send_default_pii: Optional[bool] = None,
        scrub_values: Optional[bool] = None,
        scrub_patterns: Optional[Sequence[Union[str, Pattern[str]]]] = None,
        scrub_allow: Optional[Sequence[str]] = None,
        include_local_variables: Optional[bool] = None,
        include_source_context: Optional[bool] = None,
        in_app_include: Optional[Sequence[str]] = None,
        in_app_exclude: Optional[Sequence[str]] = None,
        ignore_errors: Optional[Sequence[Union[Type[BaseException], str]]] = None,
        integrations: Optional[Sequence[Integration]] = None,
        default_integrations: Optional[bool] = None,
        shutdown_timeout: Optional[float] = None,
        debug: Optional[bool] = None,
        transport: Union[Transport, Type[Transport], None] = None,
        transport_queue_size: Optional[int] = None,
        transport_threads: Optional[int] = None,
        http_timeout: Optional[float] = None,
        http_proxy: Optional[str] = None,
        https_proxy: Optional[str] = None,
        ca_certs: Optional[str] = None,
        compress: Optional[bool] = None,
        send_client_reports: Optional[bool] = None,
        max_event_bytes: Optional[int] = None,
        spool_dir: Optional[str] = None,
        spool_max_count: Optional[int] = None,
        spool_max_bytes: Optional[int] = None,
        spool_max_age: Optional[float] = None,
        retry_policy: Optional[RetryPolicy] = None,
        flush_on_sigterm: Optional[bool] = None,
        native_crashes: Optional[bool] = None,
        session_mode: Optional[str] = None,
        auto_session_tracking: Optional[bool] = None,
        session_flush_interval: Optional[float] = None,
        failed_request_status_codes: Optional[Union[int, Iterable[Union[int, range]]]] = None,
    ) -> Client:
        """Configure releasetag; returns the client. Options: docs/sdk.md."""
        ...

else:

    def init(dsn=None, **options):
        """Configure releasetag; returns the client. Every option: docs/sdk.md.

        Raises ConfigurationError (a ValueError) for a malformed DSN, an invalid explicit
        release or an invalid option value; TypeError for an unknown option.
        """
        return _init(dsn, options)


def _init(dsn: Optional[str], options: Dict[str, Any]) -> Client:
    """init() itself (typed and checked; ``init`` above only gives it a typed signature)."""
    from . import init_checks, lifecycle, reinit
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
        previous = current.set_client(client)
    if previous is not None:
        reinit.hand_over(previous, client)
    scope_mod.get_isolation_scope().set_max_breadcrumbs(client.options.max_breadcrumbs)
    scope_mod.get_global_scope().set_max_breadcrumbs(client.options.max_breadcrumbs)
    if client.active:
        client.integrations = setup_integrations(
            client, client.options.integrations, client.options.default_integrations
        )
        client._set_sdk_info()
        lifecycle.install_fork_hook()
        from .session_tracking import APPLICATION

        application = client.sessions is not None and client.sessions.mode == APPLICATION
        if client.options.flush_on_sigterm or application:
            lifecycle.install_sigterm_flush()
        if application:
            lifecycle.install_os_exit_flush()
        init_checks.after_init(client)
    return client


def capture_exception(error: Any = None, **kwargs: Any) -> Optional[str]:
    """Capture ``error`` (default: the exception being handled); return the event id."""
    client = current.get_client()
    return client.capture_exception(error, **kwargs) if client is not None else None


def capture_message(text: Any, level: str = "info", **kwargs: Any) -> Optional[str]:
    """Capture a message at ``level``; return the event id."""
    client = current.get_client()
    return client.capture_message(text, level, **kwargs) if client is not None else None


def capture_event(event: Event, hint: Optional[Hint] = None) -> Optional[str]:
    client = current.get_client()
    return client.capture_event(event, hint) if client is not None else None


def add_breadcrumb(
    crumb: Optional[Breadcrumb] = None, hint: Optional[Hint] = None, **fields: Any
) -> None:
    """Record a breadcrumb: ``add_breadcrumb(message=..., category=..., level=..., data=...)``."""
    client = current.get_client()
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
        internal_error("scope update failed")


def last_event_id() -> Optional[str]:
    """The id of the last event this process captured and queued, or None."""
    client = current.get_client()
    return client.last_event_id if client is not None else None


def flush(timeout: Optional[float] = None) -> bool:
    """Wait until queued events are delivered; False if ``timeout`` passed first."""
    client = current.get_client()
    return client.flush(timeout) if client is not None else True


def close(timeout: Optional[float] = None) -> bool:
    """Flush within ``timeout`` and stop sending; later calls are no-ops until init()."""
    with _lock:
        client = current.set_client(None)
    return client.close(timeout) if client is not None else True


def start_session() -> None:
    """Start a process session (application mode's session, ended by :func:`end_session`
    or at exit). Ends the open one first. No release or no DSN: nothing happens."""
    client = current.get_client()
    if client is not None and client.sessions is not None:
        _safe(client.sessions.start_session)


def end_session() -> None:
    """End the process session as exited and queue its update (sent by the next flush)."""
    client = current.get_client()
    if client is not None and client.sessions is not None:
        _safe(client.sessions.end_session)


def delivery_stats() -> Dict[str, Any]:
    """Delivery counts of this process.

    ``sent``, ``queued`` (in memory), ``backlog`` (waiting for a retry, in memory or in the
    spool), ``spooled`` (written to the spool so far), ``retries``, ``dropped`` ({reason:
    count}, the reasons client reports carry) and ``dropped_total``.
    """
    client = current.get_client()
    if client is None:
        from .client import no_delivery_stats

        return no_delivery_stats()
    return client.delivery_stats()


@contextmanager
def new_scope() -> Iterator[Scope]:
    """A temporary scope: tags and context set on it end with the ``with`` block."""
    with scope_mod.new_scope() as scope:
        yield scope


def isolation_scope() -> scope_mod.use_isolation_scope:
    """A fresh isolation scope, e.g. for one request or background task."""
    return scope_mod.isolation_scope()
