"""The one way the collector's pages put values into HTML: every value is escaped.

``html(template, *values)`` is ``str.format`` with each value escaped (text and attribute
safe: ``& < > " '`` become entities) unless it is already :class:`Html`, the result of an
earlier ``html()`` or ``join()``. Templates are literals written in the code; an attribute
that takes a value is always quoted (``class="level-{}"``), so a value can never leave it.
"""

from __future__ import annotations

from html import escape as _escape
from typing import Any, Iterable


class Html(str):
    """Text that is already HTML, inserted as it is."""

    __slots__ = ()


def escape(value: Any) -> Html:
    """``value`` as HTML text: ``Html`` as it is, None as nothing, anything else escaped."""
    if isinstance(value, Html):
        return value
    return Html("" if value is None else _escape(str(value), quote=True))


def html(template: str, *args: Any, **kwargs: Any) -> Html:
    """Fill ``template`` (trusted markup) with escaped values."""
    return Html(
        template.format(*(escape(a) for a in args), **{k: escape(v) for k, v in kwargs.items()})
    )


def join(parts: Iterable[Any], sep: str = "") -> Html:
    """Escaped ``parts`` joined by ``sep`` (trusted markup such as ``"<br>"``)."""
    return Html(sep.join(escape(p) for p in parts))
