"""Report exceptions that end a thread (threading.excepthook), then call the previous hook."""

from __future__ import annotations

import threading

from . import Integration

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

        def releasetag_thread_excepthook(args):  # type: ignore[no-untyped-def]
            try:
                from .. import api
                current = api.get_client()
                if current is not None and args.exc_value is not None and not isinstance(
                        args.exc_value, SystemExit):
                    current.capture_exception((args.exc_type, args.exc_value, args.exc_traceback),
                                              handled=False, mechanism_type="threading")
            except Exception:
                pass
            return previous(args)

        threading.excepthook = releasetag_thread_excepthook
