"""The site navigation of the collector's pages: one list, in header order.

Each entry is (label, path). A page names the entry it belongs to by its path; the header
marks that one with ``aria-current``."""

from __future__ import annotations

from typing import List, Tuple

from .html import Html, html, join

NAV: List[Tuple[str, str]] = [
    ("Releases", "/releases/"),
    ("Issues", "/issues/"),
    ("Events", "/events/"),
    ("Logs", "/logs/"),
    ("Monitors", "/monitors/"),
]


def header(current: str = "") -> Html:
    """The page header: the collector's name and the navigation links."""
    links = join(
        html('<a href="{}" aria-current="page">{}</a>', path, label)
        if path == current
        else html('<a href="{}">{}</a>', path, label)
        for label, path in NAV
    )
    return html(
        '<header><a class=home href="/">releasetag collector</a><nav class=site>{}</nav></header>',
        links,
    )
