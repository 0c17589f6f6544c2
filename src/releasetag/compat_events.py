"""Event processors and attachments behind sentry-sdk's options and scope calls.

``attach_stacktrace``, ``max_value_length`` and ``event_scrubber`` (options.py) become small
processors in the client's pipeline; ``Scope.add_attachment`` keeps :class:`Attachment`s
that travel as envelope ``attachment`` items next to the event.
"""

from __future__ import annotations

import os

from releasetag.protocol.envelope import Item

from .scrub import DEFAULT_DENYLIST, Scrubber

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Union

    from .event import FrameBuilder
    from .options import Options
    from .types import Event, EventProcessor, Hint


class Attachment:
    """A file sent with the events of its scope (sentry-sdk's ``Attachment``)."""

    __slots__ = ("bytes", "filename", "path", "content_type", "add_to_transactions")

    def __init__(
        self,
        bytes: Union[None, bytes, Callable[[], bytes]] = None,  # noqa: A002 - sentry's name
        filename: Optional[str] = None,
        path: Optional[str] = None,
        content_type: Optional[str] = None,
        add_to_transactions: bool = False,
    ) -> None:
        if bytes is None and path is None:
            raise TypeError("an attachment needs bytes or a path")
        if filename is None:
            if path is None:
                raise TypeError("an attachment given as bytes needs a filename")
            filename = os.path.basename(path)
        self.bytes = bytes
        self.filename = filename
        self.path = path
        self.content_type = content_type
        self.add_to_transactions = add_to_transactions

    def to_item(self) -> Item:
        """The envelope item (read from ``path`` now, when given as a path)."""
        data: Any = self.bytes
        if data is None:
            with open(str(self.path), "rb") as f:
                data = f.read()
        elif callable(data):
            data = data()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return Item.from_bytes(
            "attachment",
            bytes(data),
            length=len(data),
            filename=self.filename,
            content_type=self.content_type or "application/octet-stream",
        )


def attachment_items(attachments: List[Attachment]) -> List[Item]:
    """Envelope items of ``attachments``; one that cannot be read is left out."""
    items = []
    for attachment in attachments:
        try:
            items.append(attachment.to_item())
        except Exception:
            from releasetag.protocol.log import get_logger

            get_logger().warning("attachment %s not sent", attachment.filename, exc_info=True)
    return items


def scrubber_from(options: Options, keys: bool, values: bool) -> Scrubber:
    """Our scrubber for ``event_scrubber``: a releasetag Scrubber as is; sentry-sdk's
    EventScrubber (or anything with a ``denylist``) adds its keys to ours."""
    given = options.event_scrubber
    if isinstance(given, Scrubber):
        return given
    denylist = list(DEFAULT_DENYLIST) + [str(k) for k in getattr(given, "denylist", ())]
    return Scrubber(
        denylist,
        keys=keys,
        values=values,
        patterns=options.scrub_patterns,
        allow=options.scrub_allow,
    )


def value_limiter(limit: int) -> EventProcessor:
    """``max_value_length``: message and exception values cut to ``limit`` characters."""

    def cut(text: Any) -> Any:
        return (
            text[: max(0, limit - 3)] + "..."
            if isinstance(text, str) and len(text) > limit
            else text
        )

    def process(event: Event, hint: Hint) -> Optional[Dict[str, Any]]:
        entry = event.get("logentry")
        if isinstance(entry, dict):
            for key in ("message", "formatted"):
                if key in entry:
                    entry[key] = cut(entry[key])
        for value in (event.get("exception") or {}).get("values") or ():
            if isinstance(value, dict) and "value" in value:
                value["value"] = cut(value["value"])
        return event

    return process


def stack_attacher(frames: FrameBuilder) -> EventProcessor:
    """``attach_stacktrace``: an event without an exception gets the calling thread's stack
    (releasetag's own frames left out), as sentry-sdk's ``threads`` entry."""

    def process(event: Event, hint: Hint) -> Optional[Dict[str, Any]]:
        if "exception" in event or "threads" in event:
            return event
        stack = [
            f
            for f in frames.from_stack(1)
            if not str(f.get("module") or "").startswith("releasetag.")
        ]
        if stack:
            event["threads"] = {
                "values": [{"stacktrace": {"frames": stack}, "crashed": False, "current": True}]
            }
        return event

    return process
