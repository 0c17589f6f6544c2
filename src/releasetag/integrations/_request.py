"""The event processor the web middleware (WSGI and ASGI) put in each request's scope."""

from __future__ import annotations

import weakref

from ..current import get_client
from ._trace import add_trace_context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple

    from ..scope import Scope
    from ..types import Event, Hint


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
            if name:
                return name, "route"
        return self.path(), "url"

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
