"""Integrations: hooks that feed events and breadcrumbs to the configured client.

Each integration is a class with an ``identifier`` and an idempotent ``setup(client)``.
Default integrations are listed by import path so that init() imports nothing a program has
not imported itself; library integrations enable only when their library is already loaded.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any, Dict, Iterable, List, Optional, Tuple

logger = logging.getLogger("releasetag")


class Integration:
    """Base class: subclasses set ``identifier`` and implement ``setup(client)``."""

    identifier = "integration"
    #: a module name that must already be in sys.modules for auto-enabling (None: always)
    requires_module: Optional[str] = None

    def setup(self, client: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


# (import path, class name); enabled by default when their requirement is met.
DEFAULT_INTEGRATIONS: List[Tuple[str, str]] = [
    ("releasetag.integrations.excepthook", "ExcepthookIntegration"),
    ("releasetag.integrations.threading", "ThreadingIntegration"),
    ("releasetag.integrations.atexit", "AtexitIntegration"),
]


def _load(path: str, name: str) -> Optional[type]:
    try:
        return getattr(importlib.import_module(path), name)
    except Exception:
        logger.debug("cannot load integration %s.%s", path, name, exc_info=True)
        return None


def default_integrations() -> List[Integration]:
    """Default integrations whose library is in use (nothing new is imported for them)."""
    out = []
    for path, name in DEFAULT_INTEGRATIONS:
        cls = _load(path, name)
        if cls is None:
            continue
        required = getattr(cls, "requires_module", None)
        if required and required not in sys.modules:
            continue
        out.append(cls())
    return out


def setup_integrations(client: Any, explicit: Iterable[Integration],
                       with_defaults: bool) -> Dict[str, Integration]:
    """Set up integrations for ``client``; an explicit one replaces the default of its kind."""
    chosen: Dict[str, Integration] = {}
    if with_defaults:
        for integration in default_integrations():
            chosen[integration.identifier] = integration
    for integration in explicit:
        chosen[integration.identifier] = integration
    for identifier, integration in list(chosen.items()):
        try:
            integration.setup(client)
        except Exception:
            logger.warning("integration %s failed to set up", identifier, exc_info=True)
            chosen.pop(identifier)
    return chosen
