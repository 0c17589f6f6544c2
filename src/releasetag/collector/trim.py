"""Values of an event on a page, trimmed: deep, wide or long values (breadcrumb data, local
variables, contexts, request bodies) render within limits, and say what was left out."""

from __future__ import annotations

from typing import Any, List

from .html import Html, html, join

MAX_DEPTH = 4  # nested containers shown; deeper ones are summarised
MAX_ITEMS = 40  # entries shown per dict or list
MAX_CHARS = 2000  # characters shown per string
BUDGET = 600  # values shown per top-level value; the rest is counted


class Budget:
    """How many more values one rendering may show."""

    def __init__(self, left: int = BUDGET) -> None:
        self.left = left


def left_out(text: str) -> Html:
    return html("<span class=left-out>{}</span>", text)


def text(value: str, limit: int = MAX_CHARS) -> Html:
    """A string, cut at ``limit`` characters with a note of how many were left out."""
    if len(value) <= limit:
        return html("{}", value)
    return html("{}{}", value[:limit], left_out(f" ... {len(value) - limit:,} more characters"))


def _container(value: Any, depth: int, budget: Budget) -> Html:
    items: List[Any] = list(value.items()) if isinstance(value, dict) else list(value)
    if depth >= MAX_DEPTH:
        kind = "keys" if isinstance(value, dict) else "items"
        return left_out(f"({len(items)} {kind} nested too deep, left out)")
    rows: List[Html] = []
    for n, item in enumerate(items):
        if n >= MAX_ITEMS or budget.left <= 0:
            rows.append(html("<li>{}</li>", left_out(f"... {len(items) - n:,} more left out")))
            break
        budget.left -= 1
        if isinstance(value, dict):
            key, inner = item
            rows.append(
                html(
                    "<li><code>{}</code>: {}</li>",
                    text(str(key), 200),
                    show(inner, depth + 1, budget),
                )
            )
        else:
            rows.append(html("<li>{}</li>", show(item, depth + 1, budget)))
    if not rows:
        return html("<code>{}</code>", "{}" if isinstance(value, dict) else "[]")
    return html("<ul class=value>{}</ul>", join(rows))


def show(value: Any, depth: int = 0, budget: Any = None) -> Html:
    """Any JSON-like value as HTML, trimmed (strings as they are, in ``<code>`` otherwise)."""
    budget = budget if isinstance(budget, Budget) else Budget()
    if isinstance(value, str):
        return text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return html("<code>{}</code>", "null" if value is None else repr(value))
    if isinstance(value, (dict, list, tuple)):
        return _container(value, depth, budget)
    return text(repr(value))


def kv_table(data: Any, limit: int = MAX_ITEMS * 2) -> Html:
    """A dict as a two-column table of keys and (trimmed) values; other values as they are."""
    if not isinstance(data, dict):
        return show(data)
    budget = Budget()
    rows: List[Html] = []
    items = list(data.items())
    for n, (key, value) in enumerate(items):
        if n >= limit or budget.left <= 0:
            rows.append(
                html(
                    "<tr><td colspan=2>{}</td></tr>",
                    left_out(f"... {len(items) - n:,} more left out"),
                )
            )
            break
        budget.left -= 1
        rows.append(
            html("<tr><th>{}</th><td>{}</td></tr>", text(str(key), 200), show(value, 1, budget))
        )
    return html("<table class=kv><tbody>{}</tbody></table>", join(rows))
