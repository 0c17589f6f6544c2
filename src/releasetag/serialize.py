"""Safe, depth- and size-capped conversion of arbitrary objects to JSON-ready data.

Nothing here raises: an object whose ``__repr__`` raises, a cycle, a huge container or a
non-string key all turn into something valid.
"""

from __future__ import annotations

import math
from collections import deque

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 5
MAX_BREADTH = 50
MAX_STRING = 1024

_PRIMITIVES = (bool, int, type(None))
_SEQUENCES = (list, tuple, set, frozenset, deque)


def truncate(text: str, limit: int = MAX_STRING) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def safe_repr(obj: Any, limit: int = MAX_STRING) -> str:
    """``repr(obj)`` that never raises, capped at ``limit`` characters."""
    try:
        text = repr(obj)
    except Exception:
        try:
            text = f"<{type(obj).__name__} object (repr failed)>"
        except Exception:
            text = "<object (repr failed)>"
    if not isinstance(text, str):
        text = "<object (repr returned non-str)>"
    return truncate(text, limit)


def safe_str(obj: Any, limit: int = MAX_STRING) -> str:
    """``str(obj)`` that never raises (falls back to safe_repr), capped at ``limit``."""
    if isinstance(obj, str):
        return truncate(obj, limit)
    try:
        text = str(obj)
    except Exception:
        return safe_repr(obj, limit)
    return truncate(text if isinstance(text, str) else safe_repr(obj, limit), limit)


def serialize(
    obj: Any,
    *,
    max_depth: int = MAX_DEPTH,
    max_breadth: int = MAX_BREADTH,
    max_string: int = MAX_STRING,
    repr_strings: bool = False,
) -> Any:
    """Convert ``obj`` into JSON-ready data (dict/list/str/int/float/bool/None).

    ``repr_strings`` quotes strings as repr() does (used for local variables, so that
    ``'1'`` and ``1`` stay distinguishable).
    """
    return _walk(obj, max_depth, max_breadth, max_string, repr_strings, set())


def _walk(obj: Any, depth: int, breadth: int, limit: int, rstr: bool, seen: set) -> Any:
    if isinstance(obj, _PRIMITIVES):
        if type(obj) is int and not -(2**63) <= obj < 2**63:
            return safe_repr(obj, limit)
        return obj if type(obj) in (bool, int, type(None)) else safe_repr(obj, limit)
    if type(obj) is float:
        return obj if math.isfinite(obj) else repr(obj)
    if type(obj) is str:
        return safe_repr(obj, limit) if rstr else truncate(obj, limit)
    if isinstance(obj, (bytes, bytearray)):
        return safe_repr(bytes(obj[:limit]), limit)
    is_map = isinstance(obj, dict)
    if not is_map and not isinstance(obj, _SEQUENCES):
        return safe_repr(obj, limit)
    if depth <= 0:
        return safe_repr(obj, min(limit, 100))
    oid = id(obj)
    if oid in seen:
        return "<cycle>"
    seen.add(oid)
    try:
        if is_map:
            out = {}
            try:
                items = list(obj.items())
            except Exception:
                return safe_repr(obj, limit)
            for i, (key, value) in enumerate(items):
                if i >= breadth:
                    out["..."] = f"<{len(items) - breadth} more>"
                    break
                skey = key if type(key) is str else safe_repr(key, 200)
                out[skey] = _walk(value, depth - 1, breadth, limit, rstr, seen)
            return out
        try:
            values = list(obj)
        except Exception:
            return safe_repr(obj, limit)
        out_list = [_walk(v, depth - 1, breadth, limit, rstr, seen) for v in values[:breadth]]
        if len(values) > breadth:
            out_list.append(f"<{len(values) - breadth} more>")
        return out_list
    finally:
        seen.discard(oid)
