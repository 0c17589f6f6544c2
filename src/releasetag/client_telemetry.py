"""The client's logs and metrics: their batchers, shared attributes and hand-over to the
transport (a part of :class:`releasetag.client.Client`)."""

from __future__ import annotations

from releasetag.protocol.log import get_logger, internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

    from releasetag.protocol.envelope import Envelope

    from .client import Client
    from .telemetry import Batcher
    from .transport.base import Transport


class TelemetryMixin:
    """Logs and metrics of a client; the client sets ``_batchers`` and ``_telemetry_defaults``
    in its ``__init__``."""

    transport: Optional[Transport]
    _batchers: Dict[str, Batcher]
    _telemetry_defaults: Optional[Dict[str, Any]]

    def _client(self) -> Client:
        return self  # type: ignore[return-value]  # only Client mixes this in

    def log_batcher(self) -> Optional[Batcher]:
        """The batcher of this client's logs (made at the first log), None once closed."""
        batcher = self._batchers.get("log")
        if batcher is None and self.transport is not None:
            from .logs import make_batcher

            batcher = self._batchers.setdefault(
                "log", make_batcher(self._client(), self._send_telemetry)
            )
        return batcher

    def metric_batcher(self) -> Optional[Batcher]:
        """The batcher of this client's metrics (made at the first metric)."""
        batcher = self._batchers.get("trace_metric")
        if batcher is None and self.transport is not None:
            from .metrics import make_batcher

            batcher = self._batchers.setdefault(
                "trace_metric", make_batcher(self._client(), self._send_telemetry)
            )
        return batcher

    def telemetry_defaults(self) -> Dict[str, Any]:
        """The attributes every log and metric carries (release, environment, SDK, host)."""
        defaults = self._telemetry_defaults
        if defaults is None:
            from .logs import default_attributes

            defaults = self._telemetry_defaults = default_attributes(self._client())
        return defaults

    def _send_telemetry(self, envelope: Envelope) -> None:
        transport = self.transport
        if transport is not None:
            transport.send_envelope(envelope)
        else:  # closed by another thread meanwhile: say so
            get_logger().warning("logs or metrics flushed after close() were not sent")

    def flush_telemetry(self, stop: bool = False) -> None:
        """Hand every buffered log and metric to the transport (and stop the batchers)."""
        for batcher in list(self._batchers.values()):
            try:
                batcher.close() if stop else batcher.flush()
            except Exception:
                internal_error("flushing logs or metrics failed")
