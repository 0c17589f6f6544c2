"""Report exceptions that end a thread (threading.excepthook), then call the previous hook.

With ``propagate_scope`` (sentry-sdk's argument, on by default as there), a thread started
while a request or task is being handled runs in a copy of that isolation scope and inside
the span that was active, so its events carry the request's tags, user and trace. Without
it, a thread starts from the process's scope.
"""

from __future__ import annotations

import threading

from ..scope import active_span, get_isolation_scope, use_isolation_scope
from . import Integration, report_unhandled

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

_installed = False
_propagate = [False]


def _patch_start() -> None:
    original = threading.Thread.start

    def start(self: threading.Thread, *args: Any, **kwargs: Any) -> Any:
        if _propagate[0]:
            try:
                scope, span, run = get_isolation_scope().fork(), active_span.get(), self.run

                def run_in_scope() -> None:
                    # a thread starts with a context of its own: set, never reset, so the
                    # scope is still there when threading.excepthook reports the thread's end
                    use_isolation_scope(scope).__enter__()
                    active_span.set(span)
                    run()

                self.run = run_in_scope  # type: ignore[method-assign]
            except Exception:
                pass  # the thread runs as it would without the integration
        return original(self, *args, **kwargs)

    threading.Thread.start = start  # type: ignore[method-assign]


class ThreadingIntegration(Integration):
    identifier = "threading"

    def __init__(self, propagate_hub: Optional[bool] = None, propagate_scope: bool = True) -> None:
        self.propagate_scope = bool(propagate_scope if propagate_hub is None else propagate_hub)

    def setup(self, client: Any) -> None:
        global _installed
        _propagate[0] = self.propagate_scope
        if _installed:
            return
        _installed = True
        _patch_start()
        previous = threading.excepthook

        def releasetag_thread_excepthook(args: Any) -> Any:
            if not isinstance(args.exc_value, SystemExit):
                report_unhandled((args.exc_type, args.exc_value, args.exc_traceback), "threading")
            return previous(args)

        threading.excepthook = releasetag_thread_excepthook
