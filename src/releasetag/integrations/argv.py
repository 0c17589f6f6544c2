"""Argv, under sentry-sdk's name: each event gets the program's command line as
``extra["sys.argv"]`` (as sentry-sdk sends it). Not on by default: pass it to init()."""

from __future__ import annotations

import sys

from ..scope import get_global_scope
from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict

    from ..types import Event, Hint


def add_argv(event: Event, hint: Hint) -> Dict[str, Any]:
    extra = event.get("extra")
    if not isinstance(extra, dict):
        extra = event["extra"] = {}
    extra.setdefault("sys.argv", [str(arg) for arg in sys.argv])
    return event


class ArgvIntegration(Integration):
    identifier = "argv"

    def setup(self, client: Any) -> None:
        processors = get_global_scope().event_processors
        if add_argv not in processors:
            processors.append(add_argv)
