"""Django, under WSGI and ASGI servers alike, and its management commands.

- Every request runs through the WSGI or ASGI middleware (mechanism ``django``). Errors Django
  turns into 500 responses (``got_request_exception``) are reported as unhandled.
- The transaction name is the URL pattern that matched (``/orders/<int:pk>/``), or with
  ``DjangoIntegration(transaction_style="function_name")`` the view's dotted name.
- With ``send_default_pii``, an authenticated ``request.user`` adds its id, username and email.
- A management command's events carry ``manage.py NAME`` as their transaction; its unhandled
  exceptions are reported (a ``CommandError`` is the command's own answer, so it is not).

Enabled by default when the program imports django. Each part is patched when the program
imports the Django module it belongs to, so that init() never loads more of Django.
"""

from __future__ import annotations

import weakref

from ..current import get_client
from ..protocol.log import internal_error
from ..scope import get_isolation_scope, use_isolation_scope
from . import Integration, when_imported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Set

    from ..types import Event, Hint

STYLES = ("url", "function_name")
REQUEST_KEY = "releasetag.django_request"  # environ / ASGI scope key: weakref to the request
MECHANISM = "django"
_SERVER_COMMANDS = ("runserver",)  # they serve requests: no command transaction around them
_style = ["url"]
_patched: Set[str] = set()


def route_name(carrier: Dict[str, Any]) -> Optional[str]:
    """The matched URL pattern (or view name) of the request whose environ or ASGI scope this
    is; None before URL resolution or when nothing matched."""
    ref = carrier.get(REQUEST_KEY)
    request = ref() if ref is not None else None
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    if _style[0] == "function_name":
        name = getattr(match, "_func_path", None) or getattr(match, "view_name", None)
        return name if isinstance(name, str) else None
    route = getattr(match, "route", None)
    if not isinstance(route, str):
        return None
    return route if route.startswith("/") else "/" + route


class _UserProcessor:
    """Adds an authenticated ``request.user`` (send_default_pii only) to the request's events."""

    __slots__ = ("request",)

    def __init__(self, request: Any) -> None:
        self.request = weakref.ref(request)

    def __call__(self, event: Event, hint: Hint) -> Dict[str, Any]:
        request = self.request()
        try:
            user = getattr(request, "user", None)
            if user is None or not getattr(user, "is_authenticated", False):
                return event
            found = {
                "id": str(getattr(user, "pk", "") or ""),
                "username": str(user.get_username() if hasattr(user, "get_username") else ""),
                "email": str(getattr(user, "email", "") or ""),
            }
        except Exception:  # the user is loaded lazily: a database or async-context error
            return event
        target = event.setdefault("user", {})
        if isinstance(target, dict):
            for key, value in found.items():
                if value:
                    target.setdefault(key, value)
        return event


def _note_request(request: Any) -> None:
    """Called as Django resolves a request's URL: lets events find the request."""
    try:
        carrier = getattr(request, "scope", None)  # ASGIRequest keeps the ASGI scope
        if not isinstance(carrier, dict):
            carrier = getattr(request, "environ", None)
        if isinstance(carrier, dict):
            carrier[REQUEST_KEY] = weakref.ref(request)
        client = get_client()
        if client is not None and client.options.send_default_pii:
            get_isolation_scope().event_processors.append(_UserProcessor(request))
    except Exception:
        internal_error("django: noting the request failed")


def _on_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
    import sys

    client = get_client()
    if client is None:
        return
    try:
        client.capture_exception(sys.exc_info(), handled=False, mechanism_type=MECHANISM)
    except Exception:
        internal_error("django: reporting a request failure failed")


def _patch_base() -> None:
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.resolve_request

    def resolve_request(self: Any, request: Any) -> Any:
        _note_request(request)
        return original(self, request)

    BaseHandler.resolve_request = resolve_request


def _patch_wsgi() -> None:
    from django.core.handlers.wsgi import WSGIHandler

    from .wsgi import handle_request

    original = WSGIHandler.__call__

    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        return handle_request(
            lambda e, s: original(self, e, s), environ, start_response, MECHANISM, route_name
        )

    WSGIHandler.__call__ = __call__


def _patch_asgi() -> None:
    from django.core.handlers.asgi import ASGIHandler

    from .asgi import run_asgi

    original = ASGIHandler.__call__

    async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> Any:
        return await run_asgi(
            lambda s, r, w: original(self, s, r, w), scope, receive, send, MECHANISM, route_name
        )

    ASGIHandler.__call__ = __call__


def _patch_signals() -> None:
    from django.core.signals import got_request_exception

    got_request_exception.connect(_on_exception, weak=False, dispatch_uid="releasetag")


def _patch_commands() -> None:
    from django.core.management.base import BaseCommand, CommandError

    original = BaseCommand.execute

    def execute(self: Any, *args: Any, **options: Any) -> Any:
        name = type(self).__module__.rsplit(".", 1)[-1]
        client = get_client()
        if client is None or name in _SERVER_COMMANDS:
            return original(self, *args, **options)
        scope = get_isolation_scope().fork()
        scope.transaction = f"manage.py {name}"
        with use_isolation_scope(scope):
            try:
                return original(self, *args, **options)
            except Exception as exc:
                if not isinstance(exc, CommandError):
                    client.capture_exception(exc, handled=False, mechanism_type=MECHANISM)
                raise

    BaseCommand.execute = execute


def _patch_reloader() -> None:
    from .django_reloader import patch

    patch()


_PARTS = (
    ("django.core.handlers.base", _patch_base),
    ("django.core.handlers.wsgi", _patch_wsgi),
    ("django.core.handlers.asgi", _patch_asgi),
    ("django.core.signals", _patch_signals),
    ("django.core.management.base", _patch_commands),
    ("django.utils.autoreload", _patch_reloader),  # stop, not kill, the server child
)


def _once(module: str, patch: Any) -> Any:
    def run() -> None:
        if module not in _patched:
            _patched.add(module)
            patch()

    return run


class DjangoIntegration(Integration):
    identifier = "django"
    requires_module = "django"

    def __init__(
        self,
        transaction_style: str = "url",
        middleware_spans: bool = False,
        signals_spans: bool = True,
        cache_spans: bool = False,
        db_transaction_spans: bool = False,
        signals_denylist: Any = None,
        http_methods_to_capture: Any = None,
        *,
        failed_request_status_codes: Any = None,
    ) -> None:
        """sentry-sdk's arguments; the ``*_spans`` ones are accepted and make no spans
        (releasetag records no performance data). ``failed_request_status_codes`` and
        ``http_methods_to_capture``: accepted; failed statuses follow the client option."""
        if transaction_style not in STYLES:
            from ..protocol.errors import ConfigurationError

            raise ConfigurationError(
                f"transaction_style must be url or function_name, got {transaction_style!r}"
            )
        self.transaction_style = transaction_style

    def setup(self, client: Any) -> None:
        _style[0] = self.transaction_style
        for module, patch in _PARTS:
            when_imported(module, _once(module, patch))
