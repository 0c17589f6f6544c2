"""What the web middleware (WSGI and ASGI) share: the carrier key of the request's scope, the
client address rule, the event processor put in each request's scope, and the failed-status
report."""

from __future__ import annotations

import weakref

from ..current import get_client
from ._trace import add_trace_context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple

    from ..scope import Scope
    from ..types import Event, Hint


#: key in the WSGI environ / ASGI scope: a weak reference to the request's isolation scope (a
#: second middleware, or a framework integration, sees it and does not add a second scope)
SCOPE_KEY = "releasetag.scope"


def first_client_ip(
    forwarded_for: Optional[str], real_ip: Optional[str], peer: Optional[str]
) -> Optional[str]:
    """The client address: the first ``X-Forwarded-For`` entry, else ``X-Real-IP``, else the
    address of the peer the server saw."""
    if forwarded_for:
        return forwarded_for.split(",")[0].strip()
    return real_ip or peer


class RequestProcessor:
    """Adds the request (built on first use), the transaction name (the route when the
    framework knows it, else the path), the client address with PII and the trace context;
    counts the error events of the request. Subclasses say how their carrier (the WSGI environ
    or the ASGI scope) gives the path, the request data and the client address."""

    __slots__ = ("carrier", "scope", "route", "errors")

    def __init__(
        self,
        carrier: Dict[str, Any],
        scope: Scope,
        route: Optional[Callable[[Dict[str, Any]], Optional[str]]] = None,
    ) -> None:
        self.carrier = carrier
        self.scope = weakref.ref(scope)  # the scope holds this processor: no reference cycle
        self.route = route
        self.errors = 0

    def path(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def request(self, pii: bool) -> Dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def client_ip(self) -> Optional[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def transaction(self) -> Tuple[str, str]:
        """(name, source): the route template ("route"), or the request's path ("url")."""
        if self.route is not None:
            try:
                name = self.route(self.carrier)
            except Exception:
                name = None
            if isinstance(name, tuple):  # (name, source): e.g. transaction_style="endpoint"
                return name
            if name:
                return name, "route"
        return self.path(), "url"

    def report_status(self, status: int, method: str) -> None:
        """Report a response status listed in ``failed_request_status_codes`` as an error
        message, unless the request already reported an error."""
        if self.errors:
            return
        client = get_client()
        if client is not None:
            name, _source = self.transaction()
            client.capture_message(f"{method} {name} answered {status}".strip(), level="error")

    def __call__(self, event: Event, hint: Hint) -> Dict[str, Any]:
        if event.get("level") in ("error", "fatal"):
            self.errors += 1
        client = get_client()
        pii = bool(client is not None and client.options.send_default_pii)
        if "request" not in event:
            event["request"] = self.request(pii)
        if pii:
            ip = self.client_ip()
            if ip:
                user = event.setdefault("user", {})
                if isinstance(user, dict):
                    user.setdefault("ip_address", ip)
        if not event.get("transaction"):
            event["transaction"], source = self.transaction()
            event.setdefault("transaction_info", {"source": source})
        scope = self.scope()
        if scope is not None:
            add_trace_context(event, scope)
        return event


class Middleware:
    """What the WSGI and ASGI middleware keep: the wrapped app, the mechanism their events
    name (the class's default unless given) and the route-name function of a framework."""

    default_mechanism = ""

    def __init__(
        self,
        app: Callable[..., Any],
        mechanism: Optional[str] = None,
        route: Optional[Callable[[Dict[str, Any]], Optional[str]]] = None,
    ) -> None:
        self.app = app
        self.mechanism = mechanism or self.default_mechanism
        self.route = route
