"""The names of the SDK's data types, for annotations in releasetag and in your code.

>>> from releasetag.types import Event, Hint, EventProcessor
>>> def drop_health_checks(event: Event, hint: Hint) -> Event | None: ...

The SDK's own modules import this only under ``TYPE_CHECKING``, so it costs ``init()``
nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

#: an event payload as it goes to the server (docs/protocol.md §2)
Event = Dict[str, Any]
#: what the pipeline knows about an event besides its payload (``exc_info``, the scope...)
Hint = Dict[str, Any]
#: one breadcrumb (``message``, ``category``, ``level``, ``data``, ``timestamp``)
Breadcrumb = Dict[str, Any]
#: a processor: the event (maybe changed) to keep it, None to drop it; also ``before_send``
EventProcessor = Callable[[Event, Hint], Optional[Event]]
#: ``before_breadcrumb``: the breadcrumb to keep, None to drop it
BreadcrumbProcessor = Callable[[Breadcrumb, Hint], Optional[Breadcrumb]]

__all__ = ["Breadcrumb", "BreadcrumbProcessor", "Event", "EventProcessor", "Hint"]
