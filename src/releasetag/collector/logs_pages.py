"""The collector's ``/logs/`` page: logs newest first, a page at a time, with filters for
release, environment, level, logger and text (and a trace, from a trace link)."""

from __future__ import annotations

from typing import Dict

from releasetag.collector.db.logs import LogFilter

from .context import Context
from .html import Html, html, join
from .log_intake import LEVELS
from .logs_cards import log_rows
from .pages import muted, page, page_number, pager, table
from .request_response import Request, Response

PER_PAGE = 50
FILTERS = ("release", "environment", "level", "logger", "q")


def _form(values: Dict[str, str]) -> Html:
    level_options = join(
        html(
            '<option value="{}"{}>{}</option>',
            lv,
            Html(" selected" if values.get("level") == lv else ""),
            lv or "any level",
        )
        for lv in ("",) + LEVELS
    )
    inputs = join(
        html(
            '<label>{} <input name="{}" value="{}" size=14></label> ',
            name if name != "q" else "text",
            name,
            values.get(name, ""),
        )
        for name in ("release", "environment", "logger", "q")
    )
    return html(
        '<form method=get action="/logs/">{}<select name=level>{}</select> '
        "<button>Filter</button></form>",
        inputs,
        level_options,
    )


def logs_page(ctx: Context, req: Request) -> Response:
    """``/logs/``."""
    values = {k: req.query.get(k, "").strip() for k in FILTERS + ("trace",)}
    flt = LogFilter(
        release=values["release"] or None,
        environment=values["environment"] or None,
        level=values["level"] or None,
        logger=values["logger"] or None,
        trace_id=values["trace"] or None,
        text=values["q"],
    )
    store = ctx.store
    number = page_number(req)
    total = store.count_logs(flt)
    rows = store.find_logs(flt, PER_PAGE, (number - 1) * PER_PAGE)
    note = Html("")
    if store.logs_search_kind() != "fts5":
        note = muted("(this SQLite has no FTS5: text search scans every body)")
    body = html(
        "<h2>Logs</h2>{}{}{}{}",
        _form(values),
        note,
        table(
            ["time (UTC)", "level", "logger", "release", "message", "trace"],
            log_rows(rows),
            "no logs match",
        ),
        pager(req, number, PER_PAGE, total),
    )
    return page("Logs", body)
