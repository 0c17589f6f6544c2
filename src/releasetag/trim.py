"""Keep a serialized event under the size limit (about 1 MB).

Order of sacrifice: oldest breadcrumbs, then local variables, then middle frames, then
long strings in ``extra``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List

    from .types import Event


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
    """JSON bytes of ``event``, trimmed in place until they fit ``limit``.

    ``protocol.jsonfmt`` is loaded by the transport on the app thread at the first capture
    (``HttpTransport._prepare_sending``), so the import here only looks it up."""
    from .protocol.jsonfmt import dumps

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
