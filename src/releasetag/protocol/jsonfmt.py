"""JSON as releasetag reads and writes it, one way for the SDK, the CLI and the collector.

- :func:`dumps` writes anything as strict UTF-8 JSON (no NaN, no lone surrogates), so that
  an odd value never costs an event.
- :func:`loads` reads what comes from outside as a strict server would, and normalizes what
  a lenient writer may send: ``NaN`` / ``Infinity`` become the strings ``"NaN"`` /
  ``"Infinity"``, lone surrogate escapes (``"\\udcff"``) become U+FFFD, and input nested too
  deep, not UTF-8 or not JSON is a :class:`JsonError` with one line.
"""

from __future__ import annotations

import json

from .errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Union


class JsonError(InputError):
    """Input that is not JSON releasetag can take."""


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
    try:
        text = str(obj)
    except Exception:
        try:
            text = f"<{type(obj).__name__} object (str failed)>"
        except Exception:
            text = "<object (str failed)>"
    return text if isinstance(text, str) else "<object>"


MAX_NESTING = 64


def json_ready(obj: Any, depth: int = MAX_NESTING, _seen: Any = None) -> Any:
    """A copy of ``obj`` that ``json.dumps(allow_nan=False)`` takes: non-finite floats as
    their JSON names (``"NaN"``, ``"Infinity"``, ``"-Infinity"``), keys as strings, cycles
    and anything nested deeper than ``depth`` as a short marker, other objects as their
    ``str``."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        if obj != obj:
            return "NaN"
        if obj in (float("inf"), float("-inf")):
            return "Infinity" if obj > 0 else "-Infinity"
        return obj
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


_SURROGATE_ESCAPE = None  # compiled at first use: re stays out of init()


def loads(data: Union[bytes, str], what: str = "JSON") -> Any:
    """Parse ``data`` (raises JsonError naming ``what``); see the module docstring."""
    global _SURROGATE_ESCAPE
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError as exc:
        raise JsonError(f"{what} is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        obj = json.loads(text, parse_constant=str)
    except RecursionError:
        raise JsonError(f"{what} is nested too deep") from None
    except ValueError as exc:
        raise JsonError(f"{what} is not valid JSON: {exc}") from None
    if "\\u" in text:
        if _SURROGATE_ESCAPE is None:
            import re

            _SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
        if _SURROGATE_ESCAPE.search(text):
            obj = _without_surrogates(obj)
    return obj


def _without_surrogates(obj: Any) -> Any:
    import re

    def fix(text: str) -> str:
        return re.sub("[\ud800-\udfff]", "\ufffd", text)

    stack = [obj]
    if isinstance(obj, str):
        return fix(obj)
    while stack:  # iterative: the input may be deep
        node = stack.pop()
        if isinstance(node, dict):
            for key in list(node):
                value = node[key]
                if isinstance(value, str):
                    value = fix(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
                if isinstance(key, str) and fix(key) != key:
                    del node[key]
                    key = fix(key)
                node[key] = value
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, str):
                    node[i] = fix(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
    return obj
