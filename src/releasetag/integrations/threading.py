"""Report exceptions that end a thread (threading.excepthook), then call the previous hook."""

from __future__ import annotations

import threading

from . import Integration, report_unhandled

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_installed = False


class ThreadingIntegration(Integration):
    identifier = "threading"

    def setup(self, client: Any) -> None:
        global _installed
        if _installed:
            return
        _installed = True
        previous = threading.excepthook

        def releasetag_thread_excepthook(args: Any) -> Any:
            if not isinstance(args.exc_value, SystemExit):
                report_unhandled((args.exc_type, args.exc_value, args.exc_traceback), "threading")
            return previous(args)

        threading.excepthook = releasetag_thread_excepthook
