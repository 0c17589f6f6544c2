"""Release health on the pages: a per-environment summary table and an inline SVG chart of
sessions per hour by outcome (no script; every value escaped through ``html.py``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from . import health
from .db.store import Store
from .html import Html, html, join
from .when import ago

COLORS = {"healthy": "#3c9a5f", "errored": "#e0a526", "abnormal": "#8c6bb1", "crashed": "#c83a4b"}
STACK = ("healthy", "errored", "abnormal", "crashed")  # bottom to top


def percent(rate: Optional[float]) -> str:
    """A fraction as ``99.12%``; ``n/a`` when unknown."""
    return "n/a" if rate is None else f"{rate * 100:.2f}%"


def summary_rows(rows: List[Dict[str, Any]]) -> List[List[Any]]:
    return [
        [
            r["environment"] or "(none)",
            r["sessions"],
            html("<b class=crash-free-sessions>{}</b>", percent(r["crash_free_sessions"])),
            html("<span class=crash-free-users>{}</span>", percent(r["crash_free_users"])),
            html("<span class=adoption>{}</span>", percent(r["adoption"])),
            r["crashed"],
            r["errored"],
            ago(r["first_session"]),
            ago(r["last_session"]),
        ]
        for r in rows
    ]


SUMMARY_HEADERS = [
    "environment",
    "sessions",
    "crash-free sessions",
    "crash-free users",
    "adoption (24 h)",
    "crashed",
    "errored",
    "first session",
    "last session",
]


def chart(store: Store, version: str, hours: int = 24, now: Optional[float] = None) -> Html:
    """Stacked bars: sessions of ``version`` started in each of the last ``hours`` hours."""
    starts, series = health.hourly_by_status(store, version, hours, now)
    totals = [sum(series[o][i] for o in STACK) for i in range(hours)]
    top = max(totals) or 1
    width, height, bar = 24 * hours, 120, 20
    bars: List[Html] = []
    for i, start in enumerate(starts):
        y = float(height)
        label = datetime.fromtimestamp(start, timezone.utc).strftime("%H:00")
        for outcome in STACK:
            n = series[outcome][i]
            if not n:
                continue
            h = n / top * (height - 10)
            y -= h
            bars.append(
                html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{} UTC: {} {}</title></rect>",
                    i * 24 + 2,
                    f"{y:.1f}",
                    bar,
                    f"{h:.1f}",
                    COLORS[outcome],
                    label,
                    n,
                    outcome,
                )
            )
    axis = join(
        html(
            '<text x="{}" y="{}" font-size="9" fill="#777">{}</text>',
            i * 24,
            height + 12,
            datetime.fromtimestamp(s, timezone.utc).strftime("%H"),
        )
        for i, s in enumerate(starts)
        if i % 3 == 0
    )
    legend = join(
        html('<span class="badge o-{}">{}: {}</span>', o, o, sum(series[o])) for o in STACK
    )
    return html(
        '<svg class=sessions-chart role="img" aria-label="sessions per hour by outcome" '
        'width="{}" height="{}" viewBox="0 0 {} {}">{}{}</svg><div>{}</div>',
        width,
        height + 16,
        width,
        height + 16,
        join(bars),
        axis,
        legend,
    )
