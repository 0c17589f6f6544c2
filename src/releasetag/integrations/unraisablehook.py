"""Report exceptions Python cannot raise (``sys.unraisablehook``: an error in ``__del__``, a
finalizer or a weakref callback), then call the previous hook.

Opt-in, as in sentry-sdk: ``init(integrations=[UnraisablehookIntegration()])``. The event is
the one sentry-sdk sends: the exception with mechanism ``unraisablehook``, ``handled: false``,
level ``error``.
"""

from __future__ import annotations

import sys

from . import Integration, report_unhandled

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_installed = False


class UnraisablehookIntegration(Integration):
    identifier = "unraisablehook"

    def setup(self, client: Any) -> None:
        global _installed
        if _installed:
            return
        _installed = True
        previous = sys.unraisablehook

        def releasetag_unraisablehook(unraisable: Any) -> Any:
            if unraisable.exc_value is not None and unraisable.exc_traceback is not None:
                info = (unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)
                report_unhandled(info, "unraisablehook")
            return previous(unraisable)

        sys.unraisablehook = releasetag_unraisablehook
