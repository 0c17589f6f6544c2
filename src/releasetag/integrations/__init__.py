"""Integrations: hooks that feed events and breadcrumbs to the configured client.

Each integration is a class with an ``identifier`` and an idempotent ``setup(client)``.
Default integrations are listed by import path so that init() imports nothing a program has
not imported itself. A library integration whose library is already loaded is set up at
init(); otherwise a watcher on ``sys.meta_path`` sets it up right after the program imports
that library (the watcher only looks at the names it waits for and loads nothing itself).
"""

from __future__ import annotations

import importlib
import sys

from releasetag.protocol.log import get_logger, internal_error

from ..current import get_client

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        Callable,
        Dict,
        FrozenSet,
        Iterable,
        List,
        Optional,
        Set,
        Tuple,
        Type,
    )

    from ..client import Client


class Integration:
    """Base class: subclasses set ``identifier`` and implement ``setup(client)``."""

    identifier = "integration"
    #: a module name that must already be in sys.modules for auto-enabling (None: always)
    requires_module: Optional[str] = None

    def setup(self, client: Client) -> None:  # pragma: no cover - interface
        """Hook into the program for ``client``; idempotent (init() may run again)."""
        raise NotImplementedError


def check_style(value: Optional[str], styles: Tuple[str, ...], owner: str) -> Optional[str]:
    """A ``transaction_style`` argument, checked (None: not given)."""
    if value is None or value in styles:
        return value
    from ..protocol.errors import ConfigurationError

    raise ConfigurationError(
        f"{owner}: transaction_style must be one of {', '.join(styles)}, got {value!r}"
    )


def status_codes(value: Any) -> Optional[FrozenSet[int]]:
    """``failed_request_status_codes`` as sentry-sdk takes it (a set of ints, or a list of
    ints and ranges) made one set; None when not given. Anything else is a ConfigurationError."""
    if value is None:
        return None
    codes: Set[int] = set()
    try:
        for item in value:
            if isinstance(item, range):
                codes.update(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                codes.add(item)
            else:
                raise TypeError(item)
    except TypeError:
        from ..protocol.errors import ConfigurationError

        raise ConfigurationError(
            "failed_request_status_codes must be a set of status codes or a list of codes and "
            f"ranges, got {value!r}"
        ) from None
    return frozenset(codes)


def report_unhandled(
    exc_info: Tuple[Any, Any, Any], mechanism_type: str, flush: bool = False
) -> None:
    """Capture an exception nobody handled (handled: False) with the configured client;
    never raises. Used by the excepthook and threading integrations."""
    try:
        client = get_client()
        if client is None or exc_info[1] is None:
            return
        client.capture_exception(exc_info, handled=False, mechanism_type=mechanism_type)
        if flush:
            client.flush(client.options.shutdown_timeout)
    except Exception:
        internal_error("reporting an unhandled exception failed")


# (import path, class name, the module the app must have imported first or None); enabled by
# default when that module is loaded. The integration's own module is imported only then.
DEFAULT_INTEGRATIONS: List[Tuple[str, str, Optional[str]]] = [
    ("releasetag.integrations.excepthook", "ExcepthookIntegration", None),
    ("releasetag.integrations.threading", "ThreadingIntegration", None),
    ("releasetag.integrations.atexit", "AtexitIntegration", None),
    ("releasetag.integrations.logging", "LoggingIntegration", None),
    ("releasetag.integrations.asyncio", "AsyncioIntegration", "asyncio"),
    ("releasetag.integrations.flask", "FlaskIntegration", "flask"),
    ("releasetag.integrations.starlette", "StarletteIntegration", "starlette.applications"),
    ("releasetag.integrations.django", "DjangoIntegration", "django"),
    ("releasetag.integrations.celery", "CeleryIntegration", "celery"),
    ("releasetag.integrations.gunicorn", "GunicornIntegration", "gunicorn.arbiter"),
    ("releasetag.integrations.stdlib", "StdlibIntegration", None),
    ("releasetag.integrations.redis", "RedisIntegration", "redis"),
    ("releasetag.integrations.sqlalchemy", "SqlalchemyIntegration", "sqlalchemy"),
    ("releasetag.integrations.loguru", "LoguruIntegration", "loguru"),
]


def _load(path: str, name: str) -> Optional[Type[Integration]]:
    try:
        return getattr(importlib.import_module(path), name)
    except Exception:
        get_logger().debug("cannot load integration %s.%s", path, name, exc_info=True)
        return None


def default_integrations(
    deferred: Optional[List[Tuple[str, str, Optional[str]]]] = None,
) -> List[Integration]:
    """Default integrations whose library is in use (nothing new is imported for them).

    The entries whose library is not loaded yet are appended to ``deferred`` when given.
    """
    out = []
    for path, name, required in DEFAULT_INTEGRATIONS:
        if required and required not in sys.modules:
            if deferred is not None:
                deferred.append((path, name, required))
            continue
        cls = _load(path, name)
        if cls is not None:
            out.append(cls())
    return out


class _ImportWatcher:
    """A meta path finder that runs callbacks right after a module it waits for is imported.

    It answers ``find_spec`` only for the module names it waits for: it asks the other finders
    for the spec and wraps that spec's loader so that, after the module has executed, the
    callbacks run. For every other name it returns None.
    """

    def __init__(self) -> None:
        self.waiting: Dict[str, List[Callable[[], None]]] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.waiting:
            return None
        spec = None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            try:
                spec = finder.find_spec(name, path, target)
            except Exception:
                spec = None
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return None
        callbacks = self.waiting.pop(name, [])

        def exec_and_run(module: Any) -> None:
            exec_module(module)
            for callback in callbacks:
                try:
                    callback()
                except Exception:
                    internal_error(f"setting up after the import of {name} failed")

        try:
            loader.exec_module = exec_and_run  # type: ignore[union-attr]  # this loader instance belongs to this spec
        except Exception:
            return None
        return spec


_watcher = _ImportWatcher()


def when_imported(module: str, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``module`` is imported: now if it already is, else right after the
    program imports it (nothing is imported here). Integrations patch submodules with it, so
    that setting them up never loads more of a framework than the program has."""
    if module in sys.modules:
        callback()
        return
    _watcher.waiting.setdefault(module, []).append(callback)
    if _watcher not in sys.meta_path:
        sys.meta_path.insert(0, _watcher)


def _setup_deferred(path: str, name: str) -> None:
    client = get_client()
    if client is None or not client.active:
        return
    cls = _load(path, name)
    if cls is None or cls.identifier in client.integrations:
        return
    try:
        integration = cls()
        integration.setup(client)
    except Exception:
        get_logger().warning("integration %s failed to set up", cls.identifier, exc_info=True)
        return
    client.integrations[cls.identifier] = integration
    client._set_sdk_info()


def _wait_for_imports(entries: Iterable[Tuple[str, str, Optional[str]]]) -> None:
    for path, name, required in entries:
        if required:
            when_imported(required, lambda p=path, n=name: _setup_deferred(p, n))  # type: ignore[misc]


def setup_integrations(
    client: Client, explicit: Iterable[Integration], with_defaults: bool
) -> Dict[str, Integration]:
    """Set up integrations for ``client``; an explicit one replaces the default of its kind."""
    chosen: Dict[str, Integration] = {}
    deferred: List[Tuple[str, str, Optional[str]]] = []
    _watcher.waiting.clear()
    if with_defaults:
        for integration in default_integrations(deferred):
            chosen[integration.identifier] = integration
        if not getattr(client.options, "auto_enabling_integrations", True):  # sentry-sdk's
            deferred.clear()  # no library integration by itself (explicit ones still count)
            chosen = {k: v for k, v in chosen.items() if v.requires_module is None}
    for integration in explicit:
        chosen[integration.identifier] = integration
    for disabled in getattr(client.options, "disabled_integrations", ()):
        chosen.pop(getattr(disabled, "identifier", str(disabled)), None)
        cls_name = (disabled if isinstance(disabled, type) else type(disabled)).__name__
        deferred[:] = [d for d in deferred if d[1] != cls_name]
    for identifier, integration in list(chosen.items()):
        try:
            integration.setup(client)
        except Exception:
            get_logger().warning("integration %s failed to set up", identifier, exc_info=True)
            chosen.pop(identifier)
    if deferred:
        # set up after the current client is installed (init() calls us right after that)
        _wait_for_imports(deferred)  # an explicit one of the same kind is kept (_setup_deferred)
    return chosen
