"""Starlette and FastAPI: every app runs through the ASGI middleware (mechanism ``starlette``),
with the matched route's template as the transaction name (``/items/{item_id}``).

Enabled by default when the app imports Starlette (FastAPI builds on it). ``HTTPException``s
become responses inside the app, so a 4xx is never an error; one whose status is in
``failed_request_status_codes`` is reported as handled. With ``send_default_pii``, a request
body of at most ``asgi.MAX_BODY`` bytes is attached (JSON parsed, else text).
"""

from __future__ import annotations

from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

_installed = False


def route_name(asgi_scope: Dict[str, Any]) -> Optional[str]:
    """The template of the route the router matched, below the mounts it went through."""
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
    identifier = "starlette"
    requires_module = "starlette.applications"

    def setup(self, client: Any) -> None:
        global _installed
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
            )

        Starlette.__call__ = __call__  # type: ignore[method-assign]
        _installed = True
