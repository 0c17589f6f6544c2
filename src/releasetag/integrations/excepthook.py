"""Report uncaught exceptions through sys.excepthook, then call the previous hook."""

from __future__ import annotations

import sys

from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_installed = False


class ExcepthookIntegration(Integration):
    identifier = "excepthook"

    def setup(self, client: Any) -> None:
        global _installed
        if _installed:
            return
        _installed = True
        previous = sys.excepthook

        def releasetag_excepthook(etype, value, tb):  # type: ignore[no-untyped-def]
            try:
                from .. import api
                current = api.get_client()
                if current is not None and value is not None and not isinstance(
                        value, KeyboardInterrupt):
                    current.capture_exception((etype, value, tb), handled=False,
                                              mechanism_type="excepthook")
                    current.flush(current.options.shutdown_timeout)
            except Exception:
                pass
            return previous(etype, value, tb)

        sys.excepthook = releasetag_excepthook
