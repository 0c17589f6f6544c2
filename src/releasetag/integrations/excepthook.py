"""Report uncaught exceptions through sys.excepthook, then call the previous hook."""

from __future__ import annotations

import sys

from . import Integration, report_unhandled

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_installed = False


class ExcepthookIntegration(Integration):
    identifier = "excepthook"

    def __init__(self, always_run: bool = False) -> None:
        """``always_run`` (sentry-sdk's argument) is accepted: releasetag's hook always runs."""
        self.always_run = bool(always_run)

    def setup(self, client: Any) -> None:
        global _installed
        if _installed:
            return
        _installed = True
        previous = sys.excepthook

        def releasetag_excepthook(etype: Any, value: Any, tb: Any) -> None:
            if not isinstance(value, KeyboardInterrupt):
                report_unhandled((etype, value, tb), "excepthook", flush=True)
            return previous(etype, value, tb)

        sys.excepthook = releasetag_excepthook
