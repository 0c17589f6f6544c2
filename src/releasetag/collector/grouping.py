"""Grouping events into issues, at ingest, inside the transaction that stores the event.

An event's fingerprint is its own ``fingerprint`` when it sends one (``{{ default }}`` stands
for the default components); otherwise the exception types plus the module and function of
the in-app frames (line numbers left out, so an edit elsewhere in a file keeps the issue);
otherwise the message template. Events with the same fingerprint in a project form one issue
(a row of ``groups``) with a short ID ``{PROJECT}-{N}``.

The status rules live here too (``unresolved``, ``resolved``, ``regressed``, and ``ignored``
when muted by hand; ``db/issues.py`` applies them at ingest). Which event reopens a resolved
issue as *regressed* (release order, environments with deploys) is decided in
``db/pipeline.reopens``.
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional

DEFAULT_TOKEN = "{{ default }}"
UNRESOLVED, RESOLVED, REGRESSED = "unresolved", "resolved", "regressed"
IGNORED = "ignored"  # muted by hand: new events leave it so


def exception_values(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The exceptions of an event (``exception.values``, or a bare list), oldest first;
    whatever is not an object is left out. The one reader of an event's exceptions."""
    values = event.get("exception")
    if isinstance(values, dict):
        values = values.get("values")
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _frames(exc: Dict[str, Any]) -> List[Dict[str, Any]]:
    trace = exc.get("stacktrace")
    frames = trace.get("frames") if isinstance(trace, dict) else None
    return [f for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []


def in_app_frames(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The in-app frames of every exception of an event, oldest call first."""
    return [f for exc in exception_values(event) for f in _frames(exc) if f.get("in_app")]


def _message_template(event: Dict[str, Any]) -> Optional[str]:
    for key in ("logentry", "message"):
        value = event.get(key)
        if isinstance(value, dict):
            value = value.get("message") or value.get("formatted")
        if isinstance(value, str) and value:
            return value
    return None


def default_components(event: Dict[str, Any]) -> List[str]:
    """The fingerprint an event gets when it does not send its own."""
    exceptions = exception_values(event)
    if exceptions:
        parts: List[str] = []
        for exc in exceptions:
            parts.append("type:" + str(exc.get("type") or "Error"))
            frames = _frames(exc)
            chosen = [f for f in frames if f.get("in_app")] or frames
            for f in chosen:
                where = f.get("module") or f.get("filename") or f.get("abs_path") or "?"
                parts.append(f"frame:{where}:{f.get('function') or '?'}")
            if not frames:
                parts.append("value:" + str(exc.get("value") or ""))
        return parts
    template = _message_template(event)
    if template is not None:
        return ["message:" + template]
    return ["title:" + str(event.get("transaction") or "<no message>")]


def fingerprint(event: Dict[str, Any]) -> List[str]:
    """The components that decide which issue an event belongs to."""
    own = event.get("fingerprint")
    if isinstance(own, list) and own:
        out: List[str] = []
        for part in own:
            if part == DEFAULT_TOKEN:
                out.extend(default_components(event))
            else:
                out.append("custom:" + str(part))
        return out
    return default_components(event)


def fingerprint_hash(parts: List[str]) -> str:
    return hashlib.sha1("\x00".join(parts).encode("utf-8", "replace")).hexdigest()


def short_id(project_slug: str, num: int) -> str:
    """``WIDGETS-7`` for project ``widgets``, issue number 7."""
    return f"{project_slug.upper()}-{num}"


class GroupKey:
    """An event's fingerprint and its hash, computed before the write transaction starts."""

    __slots__ = ("parts", "digest")

    def __init__(self, parts: List[str]) -> None:
        self.parts = parts
        self.digest = fingerprint_hash(parts)

    @classmethod
    def of(cls, event: Dict[str, Any]) -> "GroupKey":
        return cls(fingerprint(event))
