"""Flush pending events when the interpreter exits (within shutdown_timeout)."""

from __future__ import annotations

import atexit

from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_installed = False


def _flush_at_exit() -> None:
    try:
        from .. import api
        client = api.get_client()
        if client is not None:
            client.close(client.options.shutdown_timeout)
    except Exception:
        pass


class AtexitIntegration(Integration):
    identifier = "atexit"

    def setup(self, client: Any) -> None:
        global _installed
        if not _installed:
            _installed = True
            atexit.register(_flush_at_exit)
