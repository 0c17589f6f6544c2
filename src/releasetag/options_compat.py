"""sentry-sdk's init options in releasetag: checked, mapped, or accepted with one honest line.

- Options releasetag implements are fields of :class:`releasetag.options.Options`.
- :data:`NOT_HERE` lists sentry-sdk options releasetag accepts but does not implement (yet):
  each with sentry-sdk's default and the one line printed (once per process) when an app
  sets it to something else. Delete an entry when a branch implements the option.
- Any other name is an :class:`UnknownOptionError` naming the nearest known option.
- :func:`check_types`: a wrong type is one ConfigurationError naming the option and the
  expected type (never a TypeError from deep inside).
"""

from __future__ import annotations

import sys

from releasetag.protocol.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, Mapping, Set, Tuple

_TRACING = "releasetag records no performance data: no transaction or span is sent"
_PROFILES = "releasetag does not profile: no profile is sent"

# name -> (sentry-sdk's default, what releasetag does instead)
NOT_HERE: Dict[str, Tuple[Any, str]] = {
    "traces_sample_rate": (None, _TRACING),
    "traces_sampler": (None, _TRACING),
    "enable_tracing": (None, _TRACING),
    "trace_lifecycle": (None, _TRACING),
    "functions_to_trace": ([], _TRACING),
    "ignore_spans": (None, _TRACING),
    "before_send_span": (None, _TRACING + "; before_send_span is never called"),
    "trace_ignore_status_codes": (frozenset(), _TRACING),
    "enable_db_query_source": (True, _TRACING),
    "db_query_source_threshold_ms": (100, _TRACING),
    "enable_http_request_source": (True, _TRACING),
    "http_request_source_threshold_ms": (100, _TRACING),
    "stream_gen_ai_spans": (True, _TRACING),
    "instrumenter": ("sentry", _TRACING),
    "propagate_traces": (
        True,
        "releasetag sends trace headers to trace_propagation_targets; set it to [] for none",
    ),
    "strict_trace_continuation": (
        False,
        "releasetag continues every incoming trace; the org id is not compared",
    ),
    "org_id": (None, "releasetag does not compare org ids when it continues a trace"),
    "profiles_sample_rate": (None, _PROFILES),
    "profiles_sampler": (None, _PROFILES),
    "profiler_mode": (None, _PROFILES),
    "profile_lifecycle": ("manual", _PROFILES),
    "profile_session_sample_rate": (None, _PROFILES),
    "max_request_body_size": ("medium", "releasetag never sends request bodies"),
    "socket_options": (None, "releasetag's connection uses TCP_NODELAY and its own options"),
    "keep_alive": (None, "releasetag's connection is already kept open between sends"),
    "proxy_headers": (None, "releasetag sends no extra proxy headers"),
    "cert_file": (None, "releasetag sends no client certificate"),
    "key_file": (None, "releasetag sends no client certificate"),
    "enable_backpressure_handling": (True, "releasetag's queue bounds memory instead"),
    "error_sampler": (None, "use sample_rate or before_send; error_sampler is never called"),
    "project_root": (None, "in_app is decided by library paths and in_app_include/exclude"),
    "custom_repr": (None, "local variables use releasetag's safe repr"),
    "add_full_stack": (False, "stack traces hold the exception's frames only"),
    "max_stack_frames": (100, "stack traces keep releasetag's own frame limit"),
    "spotlight": (None, "no Spotlight stream; point dsn at `releasetag serve` for local events"),
    "_experiments": ({}, "sentry-sdk experiments have no meaning in releasetag"),
}

_NUMBER = "a number"
_INT = "an int >= 0"
_BOOL = "True or False"
_STR = "a string"
_CALL = "a callable"
_SEQ = "a list"
# option -> expected type (None is always accepted: it means the default)
_KINDS: Dict[str, str] = {
    "sample_rate": _NUMBER,
    "shutdown_timeout": _NUMBER,
    "http_timeout": _NUMBER,
    "session_flush_interval": _NUMBER,
    "spool_max_age": _NUMBER,
    "traces_sample_rate": _NUMBER,
    "profiles_sample_rate": _NUMBER,
    "profile_session_sample_rate": _NUMBER,
    "max_breadcrumbs": _INT,
    "transport_queue_size": _INT,
    "transport_threads": _INT,
    "max_event_bytes": _INT,
    "spool_max_count": _INT,
    "spool_max_bytes": _INT,
    "max_value_length": _INT,
    "max_stack_frames": _INT,
    "attach_stacktrace": _BOOL,
    "auto_enabling_integrations": _BOOL,
    "default_integrations": _BOOL,
    "include_local_variables": _BOOL,
    "include_source_context": _BOOL,
    "compress": _BOOL,
    "send_client_reports": _BOOL,
    "auto_session_tracking": _BOOL,
    "flush_on_sigterm": _BOOL,
    "scrub_values": _BOOL,
    "enable_tracing": _BOOL,
    "enable_logs": _BOOL,
    "release": _STR,
    "environment": _STR,
    "dist": _STR,
    "server_name": _STR,
    "http_proxy": _STR,
    "https_proxy": _STR,
    "ca_certs": _STR,
    "spool_dir": _STR,
    "session_mode": _STR,
    "before_send": _CALL,
    "before_breadcrumb": _CALL,
    "before_send_transaction": _CALL,
    "traces_sampler": _CALL,
    "profiles_sampler": _CALL,
    "before_send_log": _CALL,
    "before_send_metric": _CALL,
    "before_send_span": _CALL,
    "error_sampler": _CALL,
    "integrations": _SEQ,
    "disabled_integrations": _SEQ,
    "in_app_include": _SEQ,
    "in_app_exclude": _SEQ,
    "ignore_errors": _SEQ,
    "trace_propagation_targets": _SEQ,
    "scrub_patterns": _SEQ,
    "scrub_allow": _SEQ,
    "functions_to_trace": _SEQ,
}
_warned: Set[str] = set()


class UnknownOptionError(ConfigurationError, TypeError):
    """An init() option neither releasetag nor sentry-sdk knows. A TypeError too, as
    sentry-sdk raises for an unknown option (``except TypeError`` keeps working)."""


def _fits(kind: str, value: Any) -> bool:
    if kind == _NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == _BOOL:
        return isinstance(value, (bool, int))
    if kind == _STR:
        return isinstance(value, str)
    if kind == _CALL:
        return callable(value)
    return not isinstance(value, (str, bytes, dict)) and hasattr(value, "__iter__")


def check_types(options: Mapping[str, Any]) -> None:
    """ConfigurationError for the first option whose value has the wrong type."""
    for name, value in options.items():
        kind = _KINDS.get(name)
        if kind is not None and value is not None and not _fits(kind, value):
            raise ConfigurationError(f"option {name} must be {kind}, got {value!r}")


def split(options: Dict[str, Any], known: Iterable[str]) -> Dict[str, Any]:
    """Take the sentry-sdk-only options out of ``options`` (returned); print one line for
    each one set to something other than sentry-sdk's default. UnknownOptionError for a
    name that neither knows."""
    known = frozenset(known)
    sentry_only: Dict[str, Any] = {}
    for name in list(options):
        if name in known:
            continue
        if name not in NOT_HERE:
            import difflib

            close = difflib.get_close_matches(name, sorted(known | set(NOT_HERE)), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownOptionError(f"unknown option {name!r}{hint}")
        value = sentry_only[name] = options.pop(name)
        default, message = NOT_HERE[name]
        if value and value != default:
            warn_once(name, message)
    return sentry_only


def warn_once(name: str, message: str) -> None:
    """One line on stderr, once per option and process."""
    if name in _warned:
        return
    _warned.add(name)
    try:
        sys.stderr.write(f"releasetag: option {name} accepted, not implemented: {message}\n")
    except Exception:  # no usable stderr: nothing more to do
        pass


def sentry_value(sentry_only: Mapping[str, Any], name: str) -> Any:
    """``options[name]`` for a sentry-sdk-only option: the app's value or sentry's default."""
    if name in sentry_only:
        return sentry_only[name]
    return NOT_HERE[name][0]
