"""``releasetag sourcemaps explain``: how each frame of a stored event was (or was not)
resolved through sourcemaps, from the steps the server recorded."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List, Optional

from releasetag.protocol.errors import ReleasetagError, UsageError

from .apiargs import add_api_arguments, client_from_args
from .output import emit, safe


def register_explain(actions: Any) -> None:
    """``sourcemaps explain EVENT_ID``."""
    p = actions.add_parser(
        "explain",
        help="say for each frame of an event how its sourcemap resolution went, and why",
    )
    p.add_argument("event_id", metavar="EVENT_ID", help="the event (32 hex digits)")
    p.add_argument(
        "-f", "--frame", type=int, metavar="N", help="only frame N (0 = the outermost call)"
    )
    add_api_arguments(p, allow_failure=False)
    p.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    """Fetch the event and print, per frame, its minified and resolved location and the
    steps the server recorded (the collector records them; Sentry's source-map-debug endpoint
    is asked for frames without them)."""
    from urllib.parse import quote

    from releasetag.build.webapi.client import ApiError

    event_id = args.event_id.replace("-", "").lower()
    if len(event_id) != 32 or not all(c in "0123456789abcdef" for c in event_id):
        raise UsageError(f"invalid event ID {args.event_id!r}: expected 32 hexadecimal digits")
    client = client_from_args(args)
    org = client.config.require_org()
    project = client.config.require_project()
    base = f"/projects/{quote(org, safe='')}/{quote(project, safe='')}/events/{event_id}/"
    with client:
        event = client.json("GET", base, not_found=f"event {event_id} not found in {org}/{project}")
        frames = explain_frames(event if isinstance(event, dict) else {})
        if not frames:
            raise ReleasetagError(f"event {event_id} has no exception frames to explain")
        if args.frame is not None:
            if not 0 <= args.frame < len(frames):
                raise UsageError(f"--frame {args.frame}: the event has frames 0-{len(frames) - 1}")
            frames = [frames[args.frame]]
        for f in frames:
            if f["steps"] or not f["candidate"]:
                continue
            try:  # Sentry's own explanation, where the server has it
                answer = client.json(
                    "GET",
                    base + "source-map-debug/",
                    params={"frame_idx": f["index_in_exception"], "exception_idx": f["exception"]},
                )
            except ApiError:
                f["steps"] = ["the server recorded no resolution steps for this frame"]
                continue
            errors = answer.get("errors") if isinstance(answer, dict) else None
            f["steps"] = [
                str(e.get("message") or e.get("type")) for e in errors or [] if isinstance(e, dict)
            ] or ["the server reports no sourcemap problem for this frame"]
    if getattr(args, "json", False):
        emit(args, {"event_id": event_id, "frames": frames})
        return 0
    for f in frames:
        where = _where(f["minified"])
        if f["resolved"]:
            line = f"frame {f['index']}: {where} -> {_where(f['original'])}"
        elif f["candidate"]:
            line = f"frame {f['index']}: {where}: not resolved"
        else:
            line = f"frame {f['index']}: {where}: no line and column to resolve"
        sys.stdout.write(safe(line) + "\n")
        for step in f["steps"]:
            sys.stdout.write(f"    {safe(step)}\n")
    return 0


def explain_frames(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Per frame of every exception (outermost call first): its minified location, the
    resolved one, and the recorded steps. Reads the collector's ``payload`` or Sentry's
    ``entries``."""
    values = None
    payload = event.get("payload")
    if isinstance(payload, dict):
        exc = payload.get("exception")
        values = exc.get("values") if isinstance(exc, dict) else exc
    if values is None:
        for entry in event.get("entries") or []:
            if isinstance(entry, dict) and entry.get("type") == "exception":
                values = (entry.get("data") or {}).get("values")
    out: List[Dict[str, Any]] = []
    for e, value in enumerate(values if isinstance(values, list) else []):
        if not isinstance(value, dict):
            continue
        frames = (value.get("stacktrace") or {}).get("frames") or []
        raw = (value.get("raw_stacktrace") or value.get("rawStacktrace") or {}).get("frames")
        for n, frame in enumerate(frames):
            if not isinstance(frame, dict):
                continue
            before = raw[n] if isinstance(raw, list) and n < len(raw) else frame
            resolution = (frame.get("data") or {}).get("resolution") or {}
            resolved = bool(resolution.get("resolved")) or (before is not frame and (
                before.get("lineno"), before.get("abs_path")
            ) != (frame.get("lineno"), frame.get("abs_path")))  # fmt: skip
            steps = list(resolution.get("steps") or [])
            if resolved and not steps and (frame.get("data") or {}).get("sourcemap"):
                steps = [
                    f"resolved through {frame['data']['sourcemap']} ({resolution.get('via')}) "
                    f"to {frame.get('abs_path') or frame.get('filename')}:{frame.get('lineno')}"
                ]
            out.append(
                {
                    "index": len(out),
                    "exception": e,
                    "index_in_exception": n,
                    "candidate": before.get("colno") is not None,
                    "minified": _location(before),
                    "original": _location(frame) if resolved else None,
                    "resolved": resolved,
                    "via": resolution.get("via"),
                    "steps": steps,
                }
            )
    return out


def _location(frame: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "file": frame.get("abs_path") or frame.get("filename"),
        "line": frame.get("lineno"),
        "column": frame.get("colno"),
        "function": frame.get("function"),
    }


def _where(loc: Optional[Dict[str, Any]]) -> str:
    if not loc:
        return "?"
    text = f"{loc['file']}:{loc['line']}" + (f":{loc['column']}" if loc.get("column") else "")
    return text + (f" ({loc['function']})" if loc.get("function") else "")
