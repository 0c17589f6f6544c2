"""The sections of an event's page, one function each: the exception chain (in-app frames
open, library frames folded, local variables per frame), the request, the user, breadcrumbs,
contexts, tags as Sentry derives them, and extra data. A section with nothing to show is
left out (each returns empty ``Html``). Every value goes through ``html.py`` and ``trim.py``."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .grouping import exception_values
from .html import Html, html, join
from .trim import MAX_ITEMS, kv_table, left_out, show, text
from .when import ago

MAX_FRAMES = 200  # frames shown per exception (the innermost ones)
MAX_CRUMBS = 100  # breadcrumbs shown (the latest ones)
CONTEXT_LINES = 5  # source lines shown above and below a frame's line


def card(section_id: str, title: str, content: Any) -> Html:
    """A section with a heading; nothing when ``content`` is empty. ``section_id``: a literal."""
    if not content:
        return Html("")
    return html(
        "<section class=card id={}><h3>{}</h3>{}</section>", Html(section_id), title, content
    )


def _where(f: Dict[str, Any]) -> Html:
    return html(
        "<code>{}</code> in <code>{}</code>{}",
        f.get("filename") or f.get("abs_path") or f.get("module") or "?",
        f.get("function") or "?",
        html(" line {}", f.get("lineno")) if f.get("lineno") is not None else "",
    )


def _source(f: Dict[str, Any]) -> Html:
    pre, post = f.get("pre_context"), f.get("post_context")
    lines: List[Any] = [
        text(str(x), 300) for x in (pre[-CONTEXT_LINES:] if isinstance(pre, list) else [])
    ]
    if f.get("context_line") is not None:
        lines.append(html("<b>{}</b>", text(str(f.get("context_line")), 300)))
    lines += [text(str(x), 300) for x in (post[:CONTEXT_LINES] if isinstance(post, list) else [])]
    return html("<pre class=ctx>{}</pre>", join(lines, "\n")) if lines else Html("")


def resolution(frame: Dict[str, Any]) -> Any:
    """A line under a frame: which sourcemap resolved it (a native frame: how it was
    symbolicated, from which line table and source bundle), or why nothing did."""
    data = frame.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("resolution"), dict):
        return ""
    res = data["resolution"]
    steps = [str(s) for s in res.get("steps") or []]
    if res.get("resolved") and not data.get("sourcemap"):  # a native frame: its steps
        return html("<div class=muted>symbolicated: {}</div>", "; ".join(steps) or res.get("via"))
    if res.get("resolved"):
        return html(
            "<div class=muted>unminified with <code>{}</code> ({})</div>",
            data.get("sourcemap"),
            res.get("via"),
        )
    return html("<div class=muted>not unminified: {}</div>", "; ".join(steps) or "no reason given")


def frame(f: Dict[str, Any], open_: bool) -> Html:
    """One frame: where, its source lines and its local variables (``<details>``)."""
    variables = f.get("vars")
    local = html("<h4 class=muted>Local variables</h4>{}", kv_table(variables)) if variables else ""
    body = join([resolution(f), _source(f), local])
    cls = "frame inapp" if f.get("in_app") else "frame"
    if open_:
        return html(
            '<details class="{}" open><summary>{}</summary>{}</details>', cls, _where(f), body
        )
    return html('<details class="{}"><summary>{}</summary>{}</details>', cls, _where(f), body)


def frames(raw: Any) -> Html:
    """Frames most recent call first; runs of library frames folded in one ``<details>``."""
    all_frames = [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []
    shown = all_frames[-MAX_FRAMES:]
    any_in_app = any(f.get("in_app") for f in shown)
    out: List[Html] = []
    run: List[Html] = []

    def flush() -> None:
        if run:
            out.append(
                html(
                    "<details class=lib><summary>{} library frame{}</summary>{}</details>",
                    len(run),
                    "" if len(run) == 1 else "s",
                    join(run),
                )
            )
            run.clear()

    for f in reversed(shown):
        if f.get("in_app") or not any_in_app:
            flush()
            out.append(frame(f, open_=True))
        else:
            run.append(frame(f, open_=False))
    flush()
    if len(all_frames) > len(shown):
        out.append(left_out(f"{len(all_frames) - len(shown):,} older frames left out"))
    return join(out)


def _mechanism(exc: Dict[str, Any]) -> Html:
    mech = exc.get("mechanism")
    if not isinstance(mech, dict):
        return Html("")
    handled = mech.get("handled")
    how = "" if handled is None else (" (handled)" if handled else " (unhandled)")
    return html("<span class=badge>{}{}</span>", mech.get("type") or "mechanism", how)


def exceptions(event: Dict[str, Any]) -> Html:
    """The exception chain, the exception raised last first (as Sentry shows it); each
    says how it relates to the one shown after it."""
    values = exception_values(event)
    parts: List[Html] = []
    for n, exc in enumerate(reversed(values)):
        trace = exc.get("stacktrace")
        note = ""
        if n < len(values) - 1:
            note = html("<p class=muted>{}</p>", "raised while handling the exception below")
        parts.append(
            html(
                "<div class=exception><h3 class=exc-type>{}{}</h3>"
                "<p class=exc-value>{}</p>{}{}</div>",
                exc.get("type") or "Error",
                html(" <small class=muted>{}</small>", exc.get("module"))
                if exc.get("module")
                else "",
                text(str(exc.get("value") or "")),
                join(
                    [
                        _mechanism(exc),
                        frames(trace.get("frames") if isinstance(trace, dict) else None),
                    ]
                ),
                note,
            )
        )
    return card(
        "exception",
        "Exception" if len(values) < 2 else "Exceptions, last raised first",
        join(parts),
    )


def stacktrace_only(event: Dict[str, Any]) -> Html:
    """A thread's or a message's bare ``stacktrace`` (events without an exception)."""
    if exception_values(event):
        return Html("")
    trace = event.get("stacktrace")
    if not isinstance(trace, dict):
        threads = event.get("threads")
        values = threads.get("values") if isinstance(threads, dict) else None
        crashed = [t for t in values if isinstance(t, dict)] if isinstance(values, list) else []
        trace = next(
            (t.get("stacktrace") for t in crashed if isinstance(t.get("stacktrace"), dict)), None
        )
    if not isinstance(trace, dict):
        return Html("")
    return card("exception", "Stack trace", frames(trace.get("frames")))


def message(event: Dict[str, Any]) -> Html:
    msg = event.get("logentry") or event.get("message")
    if isinstance(msg, dict):
        msg = msg.get("formatted") or msg.get("message")
    if not msg or not isinstance(msg, str):
        return Html("")
    return card("message", "Message", html("<pre class=ctx>{}</pre>", text(msg)))


def request(event: Dict[str, Any]) -> Html:
    """Method and URL, query, headers (as the SDK scrubbed them), cookies, data, env."""
    req = event.get("request")
    if not isinstance(req, dict) or not req:
        return Html("")
    parts: List[Html] = [
        html(
            "<p><b class=method>{}</b> <code class=url>{}</code></p>",
            req.get("method") or "",
            text(str(req.get("url") or ""), 500),
        )
    ]
    for key, title in (
        ("query_string", "Query"),
        ("headers", "Headers"),
        ("cookies", "Cookies"),
        ("data", "Body"),
        ("env", "Environment"),
    ):
        value = req.get(key)
        if value in (None, "", {}, []):
            continue
        if isinstance(value, list) and all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in value
        ):
            value = {str(k): v for k, v in value}
        parts.append(
            html(
                "<h4>{}</h4>{}", title, kv_table(value) if isinstance(value, dict) else show(value)
            )
        )
    return card("request", "Request", join(parts))


def user(event: Dict[str, Any]) -> Html:
    who = event.get("user")
    return card("user", "User", kv_table(who)) if isinstance(who, dict) and who else Html("")


def _crumbs(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    raw = event.get("breadcrumbs")
    if isinstance(raw, dict):
        raw = raw.get("values")
    return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []


def breadcrumbs(event: Dict[str, Any]) -> Html:
    """The latest breadcrumbs, oldest first: time, category, level, message, data."""
    crumbs = _crumbs(event)
    if not crumbs:
        return Html("")
    shown = crumbs[-MAX_CRUMBS:]
    rows = [
        html(
            '<tr><td>{}</td><td>{}</td><td class="level-{}">{}</td><td>{}</td><td>{}</td></tr>',
            ago(c.get("timestamp")),
            text(str(c.get("category") or c.get("type") or ""), 100),
            str(c.get("level") or "info")[:20],
            str(c.get("level") or "info")[:20],
            text(str(c.get("message") or ""), 500),
            kv_table(c.get("data")) if c.get("data") else "",
        )
        for c in shown
    ]
    note = (
        left_out(f"{len(crumbs) - len(shown):,} older breadcrumbs left out")
        if len(crumbs) > len(shown)
        else ""
    )
    return card(
        "breadcrumbs",
        "Breadcrumbs",
        html(
            "{}<table><thead><tr><th>time</th><th>category</th><th>level</th><th>message</th>"
            "<th>data</th></tr></thead><tbody>{}</tbody></table>",
            note,
            join(rows),
        ),
    )


def contexts(event: Dict[str, Any]) -> Html:
    """Each context (runtime, os, trace, celery, ...) as a key-value table."""
    ctx = event.get("contexts")
    if not isinstance(ctx, dict) or not ctx:
        return Html("")
    items = list(ctx.items())
    parts = [
        html("<h4>{}</h4>{}", text(str(name), 200), kv_table(value))
        for name, value in items[:MAX_ITEMS]
    ]
    if len(items) > MAX_ITEMS:
        parts.append(left_out(f"{len(items) - MAX_ITEMS:,} more contexts left out"))
    return card("contexts", "Contexts", join(parts))


def _own_tags(event: Dict[str, Any]) -> List[Tuple[str, Any]]:
    tags = event.get("tags")
    if isinstance(tags, dict):
        return [(str(k), v) for k, v in tags.items()]
    if isinstance(tags, list):
        return [(str(t[0]), t[1]) for t in tags if isinstance(t, (list, tuple)) and len(t) == 2]
    return []


def _runtime(event: Dict[str, Any]) -> Optional[str]:
    ctx = event.get("contexts")
    rt = ctx.get("runtime") if isinstance(ctx, dict) else None
    if not isinstance(rt, dict) or not rt.get("name"):
        return None
    return f"{rt.get('name')} {rt.get('version') or ''}".strip()


def derived_tags(event: Dict[str, Any]) -> List[Tuple[str, Any]]:
    """Tags as Sentry shows them: level, handled, mechanism, transaction, server_name,
    runtime, release, environment, then the event's own (which win on a clash)."""
    mech: Dict[str, Any] = {}
    values = exception_values(event)
    if values and isinstance(values[-1].get("mechanism"), dict):
        mech = values[-1]["mechanism"]
    derived: List[Tuple[str, Any]] = [
        ("level", event.get("level") or ("error" if values else None)),
        ("handled", None if "handled" not in mech else ("yes" if mech.get("handled") else "no")),
        ("mechanism", mech.get("type")),
        ("transaction", event.get("transaction")),
        ("server_name", event.get("server_name")),
        ("runtime", _runtime(event)),
        ("release", event.get("release")),
        ("environment", event.get("environment")),
    ]
    own = _own_tags(event)
    own_keys = {k for k, _ in own}
    out = [(k, v) for k, v in derived if v not in (None, "") and k not in own_keys]
    return out + own


def tags(event: Dict[str, Any]) -> Html:
    pairs = derived_tags(event)
    shown = pairs[: MAX_ITEMS * 2]
    badges = join(
        html(
            "<span class=badge><span class=muted>{}</span> {}</span>",
            text(k, 100),
            text(str(v), 200),
        )
        for k, v in shown
    )
    if len(pairs) > len(shown):
        badges = html("{} {}", badges, left_out(f"{len(pairs) - len(shown):,} more tags left out"))
    return card("tags", "Tags", badges) if pairs else Html("")


def extra(event: Dict[str, Any]) -> Html:
    data = event.get("extra")
    return (
        card("extra", "Additional data", kv_table(data))
        if isinstance(data, dict) and data
        else Html("")
    )
