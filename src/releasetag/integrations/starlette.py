"""Starlette and FastAPI: every app runs through the ASGI middleware (mechanism ``starlette``),
with the matched route's template as the transaction name (``/items/{item_id}``), or with
``transaction_style="endpoint"`` the endpoint function's dotted name.

Enabled by default when the app imports Starlette (FastAPI builds on it). ``HTTPException``s
become responses inside the app, so a 4xx is never an error; one whose status is in
``failed_request_status_codes`` is reported as handled. With ``send_default_pii``, a request
body of at most ``asgi.MAX_BODY`` bytes is attached (JSON parsed, else text).
"""

from __future__ import annotations

from . import Integration, check_style, status_codes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

_installed = False
STYLES = ("url", "endpoint")
#: what StarletteIntegration / FastApiIntegration were given (arguments not given: not here)
_config: Dict[str, Any] = {"style": "url", "failed": None}


def route_name(asgi_scope: Dict[str, Any]) -> Any:
    """The template of the route the router matched, below the mounts it went through; with
    ``transaction_style="endpoint"`` the endpoint's ``module.qualname`` (source component)."""
    if _config["style"] == "endpoint":
        endpoint = asgi_scope.get("endpoint")
        qualname = getattr(endpoint, "__qualname__", None) or getattr(endpoint, "__name__", None)
        if isinstance(qualname, str):
            module = getattr(endpoint, "__module__", None)
            return (f"{module}.{qualname}" if module else qualname), "component"
    route = asgi_scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return None
    app_root = asgi_scope.get("app_root_path")
    if isinstance(app_root, str):  # inside a Mount: root_path grew by the mount's path
        root = asgi_scope.get("root_path")
        if isinstance(root, str) and root.startswith(app_root):
            path = root[len(app_root) :] + path
    return path


class StarletteIntegration(Integration):
    """sentry-sdk's arguments: ``transaction_style`` ("url" or "endpoint"),
    ``failed_request_status_codes`` (a set, or a list of codes and ranges; not given: the
    client option), ``middleware_spans`` and ``http_methods_to_capture`` (accepted: they only
    shape performance data, which releasetag does not record)."""

    identifier = "starlette"
    requires_module = "starlette.applications"

    def __init__(
        self,
        transaction_style: Optional[str] = None,
        failed_request_status_codes: Any = None,
        middleware_spans: bool = False,
        http_methods_to_capture: Any = None,
    ) -> None:
        self.transaction_style = check_style(transaction_style, STYLES, type(self).__name__)
        self.failed_request_status_codes = status_codes(failed_request_status_codes)
        self.middleware_spans = bool(middleware_spans)

    def setup(self, client: Any) -> None:
        global _installed
        if self.transaction_style is not None:
            _config["style"] = self.transaction_style
        if self.failed_request_status_codes is not None:
            _config["failed"] = self.failed_request_status_codes
        if _installed:
            return
        from starlette.applications import Starlette

        from .asgi import run_asgi

        original = Starlette.__call__

        async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> Any:
            return await run_asgi(
                lambda s, r, w: original(self, s, r, w),
                scope,
                receive,
                send,
                "starlette",
                route_name,
                capture_body=True,
                failed=_config["failed"],
            )

        Starlette.__call__ = __call__  # type: ignore[method-assign]
        _installed = True
