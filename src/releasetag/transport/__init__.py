"""Delivery of envelopes: HTTP transport, background worker, rate limits, delivery stats."""

from __future__ import annotations

from ..protocol.errors import ConfigurationError
from .base import SendResult, Transport
from .http_transport import HttpTransport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..options import Options

__all__ = ["HttpTransport", "SendResult", "Transport", "make_transport"]


def make_transport(options: Options) -> Transport:
    """The transport for ``options``: a user-given one (a ``Transport`` subclass or
    instance), or HTTP to the DSN."""
    if options.transport is None:
        return HttpTransport(options)
    transport = options.transport
    if isinstance(transport, type) and issubclass(transport, Transport):
        return transport(options)
    if isinstance(transport, Transport):
        return transport
    raise ConfigurationError(
        f"transport must be a releasetag.transport.Transport subclass or "
        f"instance, not {type(transport).__name__}"
    )
