"""Flask: every request runs through the WSGI middleware, and the errors Flask turns into
500 responses (``got_request_exception``) are reported as unhandled. The transaction name is
the matched rule (``/checkout/<int:order_id>``); the raw path stays in ``request.url``.

Enabled by default when the app imports flask (before or after init()).
"""

from __future__ import annotations

from ..current import get_client
from ..protocol.log import internal_error
from . import Integration
from .wsgi import SCOPE_KEY, handle_request, request_data

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

_installed = False


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


def route_name(environ: Dict[str, Any]) -> Optional[str]:
    """The URL rule Flask matched for this request (read when an event is built; werkzeug
    keeps the request object in the environ)."""
    request = environ.get("werkzeug.request")
    rule = getattr(request, "url_rule", None)
    text = getattr(rule, "rule", None)
    return text if isinstance(text, str) else None


class FlaskIntegration(Integration):
    identifier = "flask"
    requires_module = "flask"

    def setup(self, client: Any) -> None:
        global _installed
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
