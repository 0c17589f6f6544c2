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
    from typing import (
        Any,
        Callable,
        Dict,
        Iterable,
        Iterator,
        Optional,
        Pattern,
        Sequence,
        Type,
        Union,
    )

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
        attach_stacktrace: Optional[bool] = None,
        max_value_length: Optional[int] = None,
        event_scrubber: Any = None,
        data_collection: Optional[Dict[str, Any]] = None,
        disabled_integrations: Optional[Sequence[Any]] = None,
        auto_enabling_integrations: Optional[bool] = None,
        before_send_transaction: Any = None,
        trace_propagation_targets: Optional[Sequence[str]] = None,
        enable_logs: Optional[bool] = None,
        before_send_log: Optional[Callable[[Dict[str, Any], Dict[str, Any]], Any]] = None,
        enable_metrics: Optional[bool] = None,
        before_send_metric: Optional[Callable[[Dict[str, Any], Dict[str, Any]], Any]] = None,
        logs_flush_interval: Optional[float] = None,
        logs_buffer_size: Optional[int] = None,
        # sentry-sdk's options releasetag accepts and does not implement (options_compat.py)
        traces_sample_rate: Optional[float] = None, traces_sampler: Any = None,
        enable_tracing: Optional[bool] = None, trace_lifecycle: Any = None,
        functions_to_trace: Any = None, ignore_spans: Any = None, before_send_span: Any = None,
        trace_ignore_status_codes: Any = None, enable_db_query_source: Any = None,
        db_query_source_threshold_ms: Any = None, enable_http_request_source: Any = None,
        http_request_source_threshold_ms: Any = None, stream_gen_ai_spans: Any = None,
        instrumenter: Any = None, propagate_traces: Any = None,
        strict_trace_continuation: Any = None, org_id: Any = None,
        profiles_sample_rate: Optional[float] = None, profiles_sampler: Any = None,
        profiler_mode: Any = None, profile_lifecycle: Any = None,
        profile_session_sample_rate: Optional[float] = None,
        max_request_body_size: Any = None, socket_options: Any = None, keep_alive: Any = None,
        proxy_headers: Any = None, cert_file: Any = None, key_file: Any = None,
        enable_backpressure_handling: Any = None, error_sampler: Any = None,
        project_root: Any = None, custom_repr: Any = None, add_full_stack: Any = None,
        max_stack_frames: Any = None, spotlight: Any = None, _experiments: Any = None,
    ) -> Client:  # fmt: skip
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


def capture_exception(error: Any = None, scope: Any = None, **scope_kwargs: Any) -> Optional[str]:
    """Capture ``error`` (default: the exception being handled); return the event id.
    ``scope`` or ``tags=``, ``extra=``, ``user=``, ``contexts=``, ``level=``, ``fingerprint=``
    apply to this event only, as in sentry-sdk."""
    own = {k: scope_kwargs.pop(k) for k in _OWN_ARGS if k in scope_kwargs}  # releasetag's
    client, layer, event = scope_mod.capture_args(None, scope, scope_kwargs)
    if client is None:
        return None
    if event:
        own["event"] = {**event, **(own.get("event") or {})}
    return client.capture_exception(error, scope=layer, **own)


_OWN_ARGS = ("handled", "mechanism_type", "hint", "event", "params")


def capture_message(
    message: Any, level: Optional[str] = None, scope: Any = None, **scope_kwargs: Any
) -> Optional[str]:
    """Capture a message at ``level`` (default info); return the event id."""
    own = {k: scope_kwargs.pop(k) for k in _OWN_ARGS if k in scope_kwargs}  # releasetag's
    client, layer, _ = scope_mod.capture_args(None, scope, scope_kwargs)
    if client is None:
        return None
    return client.capture_message(message, level or "info", scope=layer, **own)


def capture_event(
    event: Event, hint: Optional[Hint] = None, scope: Any = None, **scope_kwargs: Any
) -> Optional[str]:
    client, layer, _ = scope_mod.capture_args(None, scope, scope_kwargs)
    return client.capture_event(event, hint, scope=layer) if client is not None else None


def add_breadcrumb(
    crumb: Optional[Breadcrumb] = None, hint: Optional[Hint] = None, **kwargs: Any
) -> None:
    """Record a breadcrumb: ``add_breadcrumb(message=..., category=..., level=..., data=...)``."""
    client = current.get_client()
    if client is None or not client.active:
        return
    data = dict(crumb or {})
    data.update(kwargs)
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


def set_user(value: Optional[Dict[str, Any]]) -> None:
    _safe(lambda: _writable().set_user(value))


def set_level(value: str) -> None:
    _safe(lambda: _writable().set_level(value))


def set_attribute(attribute: str, value: Any) -> None:
    """An attribute for every log and metric of this request or task (the isolation scope,
    as sentry-sdk's ``set_attribute``)."""
    _safe(lambda: scope_mod.get_isolation_scope().set_attribute(attribute, value))


def set_attributes(attributes: Dict[str, Any]) -> None:
    _safe(lambda: scope_mod.get_isolation_scope().set_attributes(attributes))


def remove_attribute(attribute: str) -> None:
    _safe(lambda: scope_mod.get_isolation_scope().remove_attribute(attribute))


def _safe(fn: Any) -> None:
    try:
        fn()
    except Exception:
        internal_error("scope update failed")


def last_event_id() -> Optional[str]:
    """The id of the last event this process captured and queued, or None."""
    client = current.get_client()
    return client.last_event_id if client is not None else None


def flush(timeout: Optional[float] = None, callback: Any = None) -> bool:
    """Wait until queued events are delivered; False if ``timeout`` passed first.
    (``callback`` is sentry-sdk's; releasetag does not call it.)"""
    client = current.get_client()
    return client.flush(timeout) if client is not None else True


def close(timeout: Optional[float] = None) -> bool:
    """Flush within ``timeout`` and stop sending; later calls are no-ops until init()."""
    with _lock:
        client = current.set_client(None)
    return client.close(timeout) if client is not None else True


def start_session(session_mode: str = "application") -> None:
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
