"""Flask: every request runs through the WSGI middleware, and the errors Flask turns into
500 responses (``got_request_exception``) are reported as unhandled. The transaction name is
the matched rule (``/checkout/<int:order_id>``); the raw path stays in ``request.url``.

Enabled by default when the app imports flask (before or after init()).
"""

from __future__ import annotations

from ..current import get_client
from ..protocol.log import internal_error
from . import Integration, check_style
from .wsgi import SCOPE_KEY, handle_request, request_data

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

_installed = False
STYLES = ("endpoint", "url")
_style = ["url"]  # FlaskIntegration(transaction_style=...); url: the rule (releasetag's default)


def _on_exception(sender: Any, exception: Optional[BaseException] = None, **kwargs: Any) -> None:
    client = get_client()
    if client is None or exception is None:
        return
    try:
        event = {}
        from flask import request

        environ = request.environ
        if SCOPE_KEY not in environ:  # no middleware scope: add the request here
            event["request"] = request_data(environ, client.options.send_default_pii)
        client.capture_exception(exception, handled=False, mechanism_type="flask", event=event)
    except Exception:
        internal_error("flask: reporting a request failure failed")


def route_name(environ: Dict[str, Any]) -> Any:
    """The URL rule Flask matched for this request (read when an event is built; werkzeug
    keeps the request object in the environ), or with ``transaction_style="endpoint"`` the
    endpoint's name (source ``component``, as sentry-sdk names it)."""
    request = environ.get("werkzeug.request")
    rule = getattr(request, "url_rule", None)
    if _style[0] == "endpoint":
        endpoint = getattr(rule, "endpoint", None)
        return (endpoint, "component") if isinstance(endpoint, str) and endpoint else None
    text = getattr(rule, "rule", None)
    return text if isinstance(text, str) else None


class FlaskIntegration(Integration):
    identifier = "flask"
    requires_module = "flask"

    def __init__(
        self, transaction_style: Optional[str] = None, http_methods_to_capture: Any = None
    ) -> None:
        """sentry-sdk's arguments: ``transaction_style`` "endpoint" (the view's endpoint name)
        or "url" (the rule; releasetag's default when not given); ``http_methods_to_capture``
        is accepted (it selects which requests make transactions; releasetag makes none)."""
        self.transaction_style = check_style(transaction_style, STYLES, "FlaskIntegration")

    def setup(self, client: Any) -> None:
        global _installed
        if self.transaction_style is not None:
            _style[0] = self.transaction_style
        if _installed:
            return
        import flask
        from flask import signals

        original = flask.Flask.__call__

        def __call__(self: Any, environ: Any, start_response: Any) -> Any:
            return handle_request(
                lambda e, s: original(self, e, s), environ, start_response, "flask", route_name
            )

        flask.Flask.__call__ = __call__  # type: ignore[method-assign]
        signals.got_request_exception.connect(_on_exception, weak=False)
        _installed = True
