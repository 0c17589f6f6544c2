"""The client ``init()`` configured: one per process, read by the API and the integrations.

A module of its own so that integrations and the lifecycle hooks can reach the client
without importing ``api`` (which imports them).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .client import Client

_client: Optional[Client] = None


def get_client() -> Optional[Client]:
    """The client init() configured, or None."""
    return _client


def set_client(client: Optional[Client]) -> Optional[Client]:
    """Install ``client`` (None: none); returns the one it replaces."""
    global _client
    previous, _client = _client, client
    return previous
