"""Dedupe, under sentry-sdk's name: releasetag's client always drops an exception it has
just reported (the same exception object), so this integration has nothing to add."""

from __future__ import annotations

from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class DedupeIntegration(Integration):
    identifier = "dedupe"

    def setup(self, client: Any) -> None:
        """Nothing to hook: the client deduplicates by itself."""
