"""Delivery of envelopes: HTTP transport, background worker, rate limits, delivery stats."""

from __future__ import annotations


from .http import HttpTransport, SendResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["HttpTransport", "SendResult", "make_transport"]


def make_transport(options: Any) -> Any:
    """The transport for ``options``: a user-given one, or HTTP to the DSN."""
    if options.transport is not None:
        transport = options.transport
        return transport(options) if isinstance(transport, type) else transport
    return HttpTransport(options)
