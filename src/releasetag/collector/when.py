"""Times on the pages: "3 min ago", with the exact UTC time on hover (``<time title>``)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Optional

from .html import Html, html

_UNITS = ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h"), (60, "min"))


def parse(value: Any) -> Optional[datetime]:
    """A stored time (ISO 8601 text, or Unix seconds) as an aware UTC datetime, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def relative(seconds: float) -> str:
    """``seconds`` ago in words: "just now", "3 min ago", "2 d ago", "in 5 min"."""
    ahead = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            n = int(seconds // size)
            return f"in {n} {unit}" if ahead else f"{n} {unit} ago"
    return "in 1 min" if ahead else "1 min ago"


def ago(value: Any, now: Optional[float] = None) -> Html:
    """A ``<time>`` saying how long ago ``value`` was; the exact UTC time on hover. Values
    that are no time are shown as the text they are."""
    moment = parse(value)
    if moment is None:
        return html("{}", value)
    exact = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    when = (time.time() if now is None else now) - moment.timestamp()
    return html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        exact,
        relative(when),
    )
