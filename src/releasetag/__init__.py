"""releasetag: every error your Python service reports carries its release and environment.

>>> import releasetag
>>> releasetag.init(dsn="https://KEY@host/42", release="myapp@1.4.2", environment="staging")
"""

from ._version import __version__

_API = (
    "add_breadcrumb",
    "capture_event",
    "capture_exception",
    "capture_message",
    "close",
    "delivery_stats",
    "end_session",
    "flush",
    "get_client",
    "init",
    "isolation_scope",
    "last_event_id",
    "new_scope",
    "remove_attribute",
    "set_attribute",
    "set_attributes",
    "set_context",
    "set_extra",
    "set_level",
    "set_tag",
    "set_tags",
    "set_user",
    "start_session",
)

# sentry-sdk's other public names (sentry_api.py)
_SENTRY_API = (
    "Hub",
    "add_attachment",
    "configure_scope",
    "flush_async",
    "get_current_scope",
    "get_global_scope",
    "get_isolation_scope",
    "is_initialized",
    "profiler",
    "push_scope",
    "set_transaction_name",
)
VERSION = __version__

__all__ = [
    "__version__",
    "init",
    "capture_exception",
    "capture_message",
    "capture_event",
    "add_breadcrumb",
    "set_tag",
    "set_tags",
    "set_context",
    "set_extra",
    "set_user",
    "set_level",
    "set_attribute",
    "set_attributes",
    "remove_attribute",
    "logger",
    "metrics",
    "new_scope",
    "isolation_scope",
    "last_event_id",
    "flush",
    "close",
    "delivery_stats",
    "start_session",
    "end_session",
    "get_client",
    "detect_release",
    "detect_environment",
    "Scope",
    "Client",
    "use_isolation_scope",
    "ReleasetagError",
    "ConfigurationError",
    "ServerError",
    "InputError",
    "UsageError",
    "ArtifactError",
    "Hub",
    "add_attachment",
    "configure_scope",
    "flush_async",
    "get_current_scope",
    "get_global_scope",
    "get_isolation_scope",
    "is_initialized",
    "profiler",
    "push_scope",
    "set_transaction_name",
    "VERSION",
    "Transport",
    "HttpTransport",
    "integrations",
    # releasetag.tracing
    "start_transaction",
    "start_span",
    "trace",
    "get_current_span",
    "update_current_span",
    "continue_trace",
    "get_traceparent",
    "get_baggage",
    "set_measurement",
    "monitor",
    "crons",
]


_TRACING = (  # releasetag.tracing: sentry-sdk's tracing calls, honest (nothing is measured)
    "start_transaction",
    "start_span",
    "trace",
    "get_current_span",
    "update_current_span",
    "continue_trace",
    "get_traceparent",
    "get_baggage",
    "set_measurement",
)

_ERRORS = (
    "ReleasetagError",
    "ConfigurationError",
    "ServerError",
    "InputError",
    "UsageError",
    "ArtifactError",
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import crons, integrations, logger, metrics
    from .api import (
        add_breadcrumb,
        capture_event,
        capture_exception,
        capture_message,
        close,
        delivery_stats,
        end_session,
        flush,
        get_client,
        init,
        isolation_scope,
        last_event_id,
        new_scope,
        remove_attribute,
        set_attribute,
        set_attributes,
        set_context,
        set_extra,
        set_level,
        set_tag,
        set_tags,
        set_user,
        start_session,
    )
    from .client import Client
    from .crons import monitor
    from .detect.release import detect_environment, detect_release
    from .protocol.errors import (
        ArtifactError,
        ConfigurationError,
        InputError,
        ReleasetagError,
        ServerError,
        UsageError,
    )
    from .scope import Scope, use_isolation_scope
    from .sentry_api import (
        Hub,
        add_attachment,
        configure_scope,
        flush_async,
        get_current_scope,
        get_global_scope,
        get_isolation_scope,
        is_initialized,
        profiler,
        push_scope,
        set_transaction_name,
    )
    from .tracing import (
        continue_trace,
        get_baggage,
        get_current_span,
        get_traceparent,
        set_measurement,
        start_span,
        start_transaction,
        trace,
        update_current_span,
    )
    from .transport.base import Transport
    from .transport.http_transport import HttpTransport


# Hidden from type checkers, which see the imports above: a misspelt name is an error there.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:  # lazy: ``import releasetag`` stays cheap (bench/)
        """The public API, loaded on first use: ``import releasetag`` (and so every CLI command,
        which lives in this package) costs only this module."""
        if name in _API:
            from . import api

            for public in _API:  # once: later lookups are plain module attributes
                globals()[public] = getattr(api, public)
            return globals()[name]
        if name in ("Scope", "use_isolation_scope"):
            from . import scope

            globals()[name] = getattr(scope, name)
            return globals()[name]
        if name in ("detect_release", "detect_environment"):
            from .detect import release

            globals()[name] = getattr(release, name)
            return globals()[name]
        if name in ("logger", "metrics"):  # the modules: releasetag.logger.info(...)
            import importlib

            return importlib.import_module(f"{__name__}.{name}")
        if name in ("monitor", "crons"):  # cron check-ins (releasetag.crons)
            import importlib

            module = importlib.import_module(".crons", __name__)
            return module if name == "crons" else module.monitor
        if name == "Client":
            from .client import Client

            return Client
        if name in _SENTRY_API:
            from . import sentry_api

            globals()[name] = getattr(sentry_api, name)
            return globals()[name]
        if name in ("Transport", "HttpTransport", "integrations"):
            import importlib

            from .transport import base, http_transport

            integrations = importlib.import_module("releasetag.integrations")
            globals().update(Transport=base.Transport, integrations=integrations)
            globals()["HttpTransport"] = http_transport.HttpTransport
            return globals()[name]
        if name in _TRACING:
            from . import tracing

            globals()[name] = getattr(tracing, name)
            return globals()[name]
        if name in _ERRORS:
            from .protocol import errors

            return getattr(errors, name)
        raise AttributeError(f"module 'releasetag' has no attribute {name!r}")


def __dir__() -> "list[str]":
    return sorted(set(globals()) | set(__all__))
