"""An event's attachments on its page (``/events/{id}/``) and their download
(``/events/{id}/attachments/{n}/``). A download is always ``application/octet-stream`` with
``Content-Disposition: attachment``: a file an app sent never renders as a collector page."""

from __future__ import annotations

from typing import Any, List
from urllib.parse import quote

from .context import Context
from .db.attachment_index import attachment_file
from .html import Html, html, join
from .request_response import HTTPError, Request, Response


def attachments_html(ctx: Context, event_id: str) -> Html:
    """The event page's Attachments section: each with its download link (none: left out)."""
    rows: List[Any] = ctx.store.attachments(event_id)
    if not rows:
        return Html("")
    items = [
        html(
            '<li><a href="/events/{}/attachments/{}/" download>{}</a> '
            "<span class=muted>{} bytes, {}</span></li>",
            quote(event_id),
            row["id"],
            row["filename"] or "attachment",
            row["size"],
            row["content_type"] or "application/octet-stream",
        )
        for row in rows
    ]
    return html("<h3>Attachments</h3><ul class=attachments>{}</ul>", join(items))


def download(ctx: Context, req: Request, event_id: str, attachment_id: str) -> Response:
    """The bytes of one attachment of the event."""
    row = None
    if attachment_id.isdigit():
        row = attachment_file(ctx.store, event_id, int(attachment_id))
    if row is None:
        raise HTTPError(404, f"event {event_id} has no attachment {attachment_id}")
    name = str(row["filename"] or "attachment")
    disposition = "attachment; filename*=UTF-8''" + quote(name, safe="")
    return Response(
        bytes(row["data"]),
        200,
        "application/octet-stream",
        [("Content-Disposition", disposition), ("X-Content-Type-Options", "nosniff")],
    )
