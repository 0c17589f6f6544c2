"""Keep a serialized event under the size limit (about 1 MB).

Order of sacrifice: oldest breadcrumbs, then local variables, then middle frames, then
long strings in ``extra``.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List

    from .types import Event


def dumps(obj: Any) -> bytes:
    """UTF-8 JSON of ``obj``, whatever it holds: non-finite floats, cycles, odd keys, deep
    nesting and objects JSON cannot take are converted (see ``json_ready``), and lone
    surrogates (file names, argv or environ that were not UTF-8) become U+FFFD."""
    try:
        text = _json(obj)
    except (ValueError, TypeError, RecursionError):
        text = _json(json_ready(obj))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        import re

        return re.sub("[\ud800-\udfff]", "\ufffd", text).encode("utf-8")


def _json(obj: Any) -> str:
    return json.dumps(
        obj, separators=(",", ":"), ensure_ascii=False, default=_default, allow_nan=False
    )


def _default(obj: Any) -> str:
    from .serialize import safe_str

    return safe_str(obj)


MAX_NESTING = 64


def json_ready(obj: Any, depth: int = MAX_NESTING, _seen: Any = None) -> Any:
    """A copy of ``obj`` that ``json.dumps(allow_nan=False)`` takes: non-finite floats as
    their name (``"nan"``, ``"inf"``), keys as strings, cycles and anything nested deeper
    than ``depth`` as a short marker, other objects as their ``str``."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else repr(obj)
    seen = set() if _seen is None else _seen
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in seen:
            return "[cycle]"
        if depth <= 0:
            return "[too deep]"
        seen.add(id(obj))
        try:
            if isinstance(obj, dict):
                return {
                    k if isinstance(k, str) else _default(k): json_ready(v, depth - 1, seen)
                    for k, v in obj.items()
                }
            return [json_ready(v, depth - 1, seen) for v in obj]
        finally:
            seen.discard(id(obj))
    return _default(obj)


def _frames(event: Event) -> List[List[Dict[str, Any]]]:
    out = []
    for exc in (event.get("exception") or {}).get("values") or ():
        frames = (exc.get("stacktrace") or {}).get("frames")
        if frames:
            out.append(frames)
    for thread in (event.get("threads") or {}).get("values") or ():
        frames = (thread.get("stacktrace") or {}).get("frames")
        if frames:
            out.append(frames)
    return out


def encode_event(event: Event, limit: int = 1_000_000) -> bytes:
    """JSON bytes of ``event``, trimmed in place until they fit ``limit``."""
    data = dumps(event)
    if len(data) <= limit:
        return data
    crumbs = (event.get("breadcrumbs") or {}).get("values")
    if crumbs:
        while crumbs and len(data) > limit:
            del crumbs[: max(1, len(crumbs) // 4)]
            data = dumps(event)
        if len(data) <= limit:
            return data
    for frames in _frames(event):
        for frame in frames:
            frame.pop("vars", None)
    data = dumps(event)
    if len(data) <= limit:
        return data
    for frames in _frames(event):
        while len(frames) > 10 and len(data) > limit:
            mid = len(frames) // 2
            del frames[mid - len(frames) // 4 : mid + len(frames) // 4]
            data = dumps(event)
    if len(data) > limit and isinstance(event.get("extra"), dict):
        event["extra"] = {
            k: (v[:1024] + "..." if isinstance(v, str) and len(v) > 1024 else v)
            for k, v in event["extra"].items()
        }
        data = dumps(event)
    if len(data) > limit:
        event.pop("extra", None)
        for frames in _frames(event):
            for frame in frames:
                frame.pop("pre_context", None)
                frame.pop("post_context", None)
        data = dumps(event)
    return data
