"""Flush pending events when the interpreter exits (within shutdown_timeout).

The client's transport joins the one exit handler of :mod:`releasetag.lifecycle`
(``HttpTransport`` joins it by itself; this covers transports of your own too).
"""

from __future__ import annotations

from .. import lifecycle
from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..client import Client


class AtexitIntegration(Integration):
    identifier = "atexit"

    def __init__(self, callback: Any = None) -> None:
        """``callback(pending, timeout)`` (sentry-sdk's argument) is accepted and not called:
        releasetag reports pending events in its own shutdown line."""
        self.callback = callback

    def setup(self, client: Client) -> None:
        if client.transport is not None:
            lifecycle.track(client.transport)
