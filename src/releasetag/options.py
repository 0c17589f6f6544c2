"""Every runtime option with its default and environment variable, in one typed place."""

from __future__ import annotations

import os

from releasetag.detect import release as detection
from releasetag.protocol import release as release_mod
from releasetag.protocol.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        Callable,
        Dict,
        FrozenSet,
        Mapping,
        Optional,
        Sequence,
        Tuple,
        Type,
        Union,
    )

    from .transport.base import Transport
    from .transport.retry import RetryPolicy
    from .types import BreadcrumbProcessor, EventProcessor


class Options:
    """Resolved client options. Build with :func:`resolve_options`, not directly.

    The class attributes are the defaults; ``__init__`` sets every option on the instance.
    """

    dsn: Optional[str] = None
    release: Optional[str] = None
    environment: str = detection.DEFAULT_ENVIRONMENT
    dist: Optional[str] = None
    server_name: Optional[str] = None
    sample_rate: float = 1.0
    before_send: Optional[EventProcessor] = None
    before_breadcrumb: Optional[BreadcrumbProcessor] = None
    max_breadcrumbs: int = 100
    send_default_pii: bool = False
    scrub_values: bool = True  # find secrets by value too (card numbers, keys, tokens...)
    scrub_patterns: Tuple[Any, ...] = ()  # extra regexes whose matches are filtered
    scrub_allow: Tuple[str, ...] = ()  # values never filtered (a test card number, ...)
    include_local_variables: bool = True
    include_source_context: bool = True
    in_app_include: Tuple[str, ...] = ()
    in_app_exclude: Tuple[str, ...] = ()
    ignore_errors: Tuple[Any, ...] = ()
    integrations: Tuple[Any, ...] = ()
    default_integrations: bool = True
    shutdown_timeout: float = 2.0
    debug: bool = False
    # transport
    transport: Union[Transport, Type[Transport], None] = None
    transport_queue_size: int = 1000
    transport_threads: int = 1  # requests in flight (2: faster, arrival order free)
    http_timeout: float = 5.0
    http_proxy: Optional[str] = None
    https_proxy: Optional[str] = None
    ca_certs: Optional[str] = None
    compress: bool = True
    send_client_reports: bool = True
    max_event_bytes: int = 1_000_000
    # spool and retries (delivery)
    spool_dir: Optional[str] = None  # opt-in disk spool (README "Delivery" says why)
    spool_max_count: int = 10_000
    spool_max_bytes: int = 100 * 1024 * 1024
    spool_max_age: float = 3 * 24 * 3600.0
    retry_policy: Optional[RetryPolicy] = None  # None: the default policy
    flush_on_sigterm: Optional[bool] = None  # None: on when SIGTERM's action is the default
    native_crashes: bool = True  # crash records of fatal signals (native_crashes.py)
    # release health (session_tracking.py)
    session_mode: str = "request"  # "request" | "application" | "off"
    auto_session_tracking: bool = True  # False: no automatic sessions (like "off")
    session_flush_interval: float = 60.0  # seconds between sends of request-mode counts
    # web integrations: response statuses reported as errors (none by default, like 4xx)
    failed_request_status_codes: FrozenSet[int] = frozenset()
    # sentry-sdk's options with a meaning here (options_compat.py holds the others)
    attach_stacktrace: bool = False  # message events carry the calling thread's stack
    max_value_length: Optional[int] = None  # cut message and exception values to this length
    event_scrubber: Any = None  # a Scrubber, or sentry-sdk's EventScrubber (its denylist)
    data_collection: Optional[Mapping[str, Any]] = None  # user_info: like send_default_pii
    disabled_integrations: Tuple[Any, ...] = ()  # integrations (or classes) never set up
    auto_enabling_integrations: bool = True  # False: no default integration for a library
    before_send_transaction: Any = None  # stored, never called: releasetag sends no transactions
    trace_propagation_targets: Any = (".*",)  # URL patterns that get trace headers
    # Sentry Logs and metrics (logs.py, metrics.py, telemetry.py; docs/logs.md)
    enable_logs: bool = False  # releasetag.logger and the logging integrations send logs
    before_send_log: Optional[Callable[[Dict[str, Any], Dict[str, Any]], Any]] = None
    enable_metrics: bool = True  # releasetag.metrics sends trace_metric items
    before_send_metric: Optional[Callable[[Dict[str, Any], Dict[str, Any]], Any]] = None
    logs_flush_interval: float = 5.0  # seconds a log or metric waits at most in the batcher
    logs_buffer_size: int = 10_000  # entries held before the logging thread sends them itself

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - _OPTION_NAMES
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        for name in _OPTION_NAMES:
            setattr(self, name, values[name] if name in values else getattr(Options, name, None))
        self.sentry_only: Dict[str, Any] = {}  # options_compat.NOT_HERE options the app set

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return vars(self) == vars(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    # sentry-sdk's ``client.options`` is a dict: ``options["release"]`` reads the same here
    def __getitem__(self, name: str) -> Any:
        if name in _OPTION_NAMES:
            return getattr(self, name)
        from .options_compat import sentry_value

        try:
            return sentry_value(getattr(self, "sentry_only", {}), name)
        except KeyError:
            raise KeyError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return name in self.keys()

    def keys(self) -> FrozenSet[str]:
        from .options_compat import NOT_HERE

        return _OPTION_NAMES | frozenset(NOT_HERE)

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in Options.__annotations__)
        return f"Options({values})"


# Options read from the environment: option name -> env var names, first found wins.
ENV_VARS: Mapping[str, Sequence[str]] = {
    "dsn": ("RELEASETAG_DSN", "SENTRY_DSN"),
    "dist": ("RELEASETAG_DIST", "SENTRY_DIST"),
    "spool_dir": ("RELEASETAG_SPOOL_DIR",),
    "debug": ("RELEASETAG_DEBUG", "SENTRY_DEBUG"),
    "session_mode": ("RELEASETAG_SESSION_MODE",),
    "enable_logs": ("RELEASETAG_ENABLE_LOGS",),
}

_OPTION_NAMES = frozenset(Options.__annotations__)


def _env_value(name: str, env: Mapping[str, str]) -> Optional[str]:
    for var in ENV_VARS.get(name, ()):
        value = env.get(var)
        if value:
            return value
    return None


def _host_name() -> Optional[str]:
    """What ``socket.gethostname()`` returns, without importing ``socket`` at init."""
    try:
        return os.uname().nodename
    except AttributeError:  # pragma: no cover - Windows
        import platform

        return platform.node() or None


def resolve_options(
    dsn: Optional[str] = None, env: Optional[Mapping[str, str]] = None, **kwargs: Any
) -> Options:
    """Merge arguments with environment variables and detection; validate what matters.

    Raises ValueError for an invalid explicit release or a malformed DSN.
    """
    env = os.environ if env is None else env
    from . import options_compat as compat

    compat.check_types(kwargs)
    kwargs = dict(kwargs)
    sentry_only = compat.split(kwargs, _OPTION_NAMES) if set(kwargs) - _OPTION_NAMES else {}
    if kwargs.get("send_default_pii") is None and kwargs.get("data_collection"):
        kwargs["send_default_pii"] = bool(kwargs["data_collection"].get("user_info"))
    opts = Options(**{k: v for k, v in kwargs.items() if v is not None})
    opts.sentry_only = sentry_only
    opts.dsn = dsn if dsn is not None else _env_value("dsn", env)
    if opts.dsn == "":
        opts.dsn = None
    if opts.dsn is not None:
        from releasetag.protocol.dsn import Dsn

        Dsn.parse(opts.dsn)  # ValueError with the reason
    explicit = kwargs.get("release")
    if explicit is not None:
        release_mod.validate_release(explicit)
        opts.release = explicit
    elif opts.dsn is not None:  # detection (maybe git) only when events can be sent
        opts.release = detection.detect_release()
    opts.environment = detection.detect_environment(kwargs.get("environment"), env)
    if opts.dist is not None:
        err = release_mod.dist_error(opts.dist)
        if err:
            raise ConfigurationError(f"invalid dist {opts.dist!r}: {err}")
    else:
        opts.dist = _env_value("dist", env)
        if opts.dist is not None and release_mod.dist_error(opts.dist):
            opts.dist = None  # like a bad release from the environment: not reported
    if opts.spool_dir is None:
        opts.spool_dir = _env_value("spool_dir", env)
    if "debug" not in kwargs or kwargs["debug"] is None:
        value = _env_value("debug", env)
        if value:
            from .detect.env import is_true  # loaded only when the variable is set

            opts.debug = is_true(value)
        else:
            opts.debug = False
    if "enable_logs" not in kwargs or kwargs["enable_logs"] is None:
        value = _env_value("enable_logs", env)
        if value:
            from .detect.env import is_true

            opts.enable_logs = is_true(value)
    if "session_mode" not in kwargs or kwargs["session_mode"] is None:
        opts.session_mode = (_env_value("session_mode", env) or Options.session_mode).lower()
    from .session_tracking import MODES, OFF  # loaded by the client right after, in any case

    if opts.session_mode not in MODES:
        raise ConfigurationError(
            f"session_mode must be request, application or off, got {opts.session_mode!r}"
        )
    if not opts.auto_session_tracking:
        opts.session_mode = OFF
    if opts.server_name is None:
        opts.server_name = _host_name()
    if not 0.0 <= float(opts.sample_rate) <= 1.0:
        raise ConfigurationError(f"sample_rate must be between 0 and 1, got {opts.sample_rate!r}")
    opts.in_app_include = tuple(opts.in_app_include)
    opts.in_app_exclude = tuple(opts.in_app_exclude)
    opts.ignore_errors = tuple(opts.ignore_errors)
    opts.integrations = tuple(opts.integrations)
    opts.disabled_integrations = tuple(opts.disabled_integrations)
    opts.trace_propagation_targets = list(opts.trace_propagation_targets)
    opts.max_breadcrumbs = max(0, int(opts.max_breadcrumbs))
    opts.failed_request_status_codes = status_codes(opts.failed_request_status_codes)
    return opts


def status_codes(value: Any) -> FrozenSet[int]:
    """HTTP statuses from ints, ``range(500, 600)``s or iterables of them; ConfigurationError
    for anything else or a status outside 100-599."""
    out = set()
    items = [value] if isinstance(value, int) else value
    try:
        for item in items:
            codes = [item] if isinstance(item, int) else list(item)
            for code in codes:
                if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
                    raise ValueError
                out.add(code)
    except (TypeError, ValueError):
        raise ConfigurationError(
            "failed_request_status_codes takes HTTP statuses (100-599) as ints or ranges, "
            f"got {value!r}"
        ) from None
    return frozenset(out)
