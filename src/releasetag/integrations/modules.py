"""Modules, under sentry-sdk's name: each event lists the installed distributions and their
versions in ``modules`` (as sentry-sdk sends them). Read once, at the first event (reading
package metadata costs milliseconds, so init() does not). Not on by default: pass it to init()."""

from __future__ import annotations

from ..scope import get_global_scope
from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

    from ..types import Event, Hint

_modules: Optional[Dict[str, str]] = None


def installed() -> Dict[str, str]:
    global _modules
    if _modules is None:
        from importlib import metadata

        found: Dict[str, str] = {}
        for dist in metadata.distributions():
            name = dist.metadata["Name"] if dist.metadata else None
            if name:
                found[str(name).lower()] = str(dist.version)
        _modules = found
    return _modules


def add_modules(event: Event, hint: Hint) -> Dict[str, Any]:
    if "modules" not in event:
        event["modules"] = dict(installed())
    return event


class ModulesIntegration(Integration):
    identifier = "modules"

    def setup(self, client: Any) -> None:
        processors = get_global_scope().event_processors
        if add_modules not in processors:
            processors.append(add_modules)
