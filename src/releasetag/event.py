"""Turn exceptions and tracebacks into the event payload (docs/protocol.md §2)."""

from __future__ import annotations

import builtins
import os
import sys
import time

from ._version import SDK_NAME, __version__
from .serialize import safe_repr, safe_str, serialize, truncate

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing, platform, sysconfig, uuid, datetime stay out of init() (bench/)
    from types import FrameType, TracebackType
    from typing import Any, Dict, List, Optional, Tuple

CONTEXT_LINES = 5
MAX_FRAMES = 250
MAX_CHAIN = 50
VAR_DEPTH = 3
VAR_BREADTH = 20
VAR_STRING = 256

_library_paths: Optional[Tuple[str, ...]] = None
_GROUP_TYPE = getattr(builtins, "BaseExceptionGroup", None)
_PACKAGE_MARKERS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)
#: this package's own directory: its frames are never in-app, however it is installed
_SDK_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def new_event_id() -> str:
    """A random (version 4) UUID as 32 hex digits."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def utc_timestamp() -> str:
    """Now as RFC 3339 UTC with microseconds."""
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos // 1000:06d}Z"


def library_paths() -> Tuple[str, ...]:
    """The standard library's directories (sysconfig is loaded on the first capture)."""
    global _library_paths
    if _library_paths is None:
        import sysconfig

        paths = sysconfig.get_paths()
        _library_paths = tuple({p for p in (paths.get("stdlib"), paths.get("platstdlib")) if p})
    return _library_paths


class FrameBuilder:
    """Builds stack frames; holds the in_app rules and a per-process cache of path facts."""

    def __init__(
        self,
        in_app_include: Tuple[str, ...] = (),
        in_app_exclude: Tuple[str, ...] = (),
        include_locals: bool = True,
        include_source: bool = True,
    ) -> None:
        self.in_app_include = in_app_include
        self.in_app_exclude = in_app_exclude
        self.include_locals = include_locals
        self.include_source = include_source
        self._path_in_app: Dict[str, bool] = {}

    def is_in_app(self, module: Optional[str], abs_path: str) -> bool:
        """Whether a frame is the app's own code: a module in ``in_app_include``, else never
        the SDK's own, else not in ``in_app_exclude``, else by path (not a package, not the
        standard library)."""
        if module:
            for prefix in self.in_app_include:
                if module == prefix or module.startswith(prefix + "."):
                    return True
            if module == "releasetag" or module.startswith("releasetag."):
                return False
            for prefix in self.in_app_exclude:
                if module == prefix or module.startswith(prefix + "."):
                    return False
        cached = self._path_in_app.get(abs_path)
        if cached is None:
            cached = not (
                abs_path.startswith(_SDK_DIR)
                or any(m in abs_path for m in _PACKAGE_MARKERS)
                or abs_path.startswith(library_paths())
                or abs_path.startswith("<")
            )
            self._path_in_app[abs_path] = cached
        return cached

    def frame(self, frame: FrameType, lineno: Optional[int]) -> Dict[str, Any]:
        code = frame.f_code
        abs_path = code.co_filename or "<unknown>"
        f_globals = frame.f_globals
        module = f_globals.get("__name__") if isinstance(f_globals, dict) else None
        if not isinstance(module, str):
            module = None
        function = getattr(code, "co_qualname", None) or code.co_name
        if lineno is None or lineno < 0:
            lineno = frame.f_lineno or 0
        out: Dict[str, Any] = {
            "filename": _relative_filename(abs_path, module),
            "abs_path": abs_path,
            "module": module,
            "function": function,
            "lineno": lineno,
            "in_app": self.is_in_app(module, abs_path),
        }
        if self.include_source and lineno > 0:
            import linecache  # on the first capture, not at init (it loads tokenize)

            lines = linecache.getlines(abs_path, f_globals)
            if lines and lineno <= len(lines):
                lo = max(0, lineno - 1 - CONTEXT_LINES)
                out["pre_context"] = [truncate(x.rstrip("\r\n")) for x in lines[lo : lineno - 1]]
                out["context_line"] = truncate(lines[lineno - 1].rstrip("\r\n"))
                out["post_context"] = [
                    truncate(x.rstrip("\r\n")) for x in lines[lineno : lineno + CONTEXT_LINES]
                ]
        if self.include_locals:
            try:
                local_vars = dict(frame.f_locals)
            except Exception:
                local_vars = {}
            if local_vars:
                out["vars"] = serialize(
                    local_vars,
                    max_depth=VAR_DEPTH,
                    max_breadth=VAR_BREADTH,
                    max_string=VAR_STRING,
                    repr_strings=True,
                )
        return out

    def from_traceback(self, tb: Optional[TracebackType]) -> List[Dict[str, Any]]:
        """Frames of a traceback, oldest call first (capped at MAX_FRAMES, keeping both ends)."""
        entries = []
        while tb is not None:
            entries.append((tb.tb_frame, tb.tb_lineno))
            tb = tb.tb_next
        if len(entries) > MAX_FRAMES:
            half = MAX_FRAMES // 2
            entries = entries[:half] + entries[-half:]
        return [self.frame(f, ln) for f, ln in entries]

    def from_stack(self, skip: int = 0) -> List[Dict[str, Any]]:
        """Frames of the current stack (for messages with attach_stacktrace)."""
        frames: List[Any] = []  # (frame, line number) pairs
        f: Optional[FrameType] = sys._getframe(skip + 1)
        while f is not None and len(frames) < MAX_FRAMES:
            frames.append((f, f.f_lineno))
            f = f.f_back
        return [self.frame(fr, ln) for fr, ln in reversed(frames)]


def _relative_filename(abs_path: str, module: Optional[str]) -> str:
    """The path relative to the import root, derived from the module name."""
    if not module or abs_path.startswith("<"):
        return abs_path
    parts = module.split(".")
    if os.path.basename(abs_path).startswith("__init__."):
        parts.append("__init__")
    base = abs_path
    for _ in parts:
        base = os.path.dirname(base)
    if base and abs_path.startswith(base):
        return abs_path[len(base) :].lstrip(os.sep) or abs_path
    return abs_path


def _exception_value(
    exc: BaseException,
    frames: FrameBuilder,
    mechanism: Dict[str, Any],
) -> Dict[str, Any]:
    etype = type(exc)
    module = getattr(etype, "__module__", None)
    value: Dict[str, Any] = {
        "type": getattr(etype, "__qualname__", etype.__name__),
        "value": safe_str(exc),
        "mechanism": mechanism,
    }
    if module and module not in ("builtins", "__builtin__", "exceptions"):
        value["module"] = module
    stack = frames.from_traceback(exc.__traceback__)
    if stack:
        value["stacktrace"] = {"frames": stack}
    return value


def exception_values(
    exc: BaseException,
    frames: FrameBuilder,
    *,
    handled: bool = True,
    mechanism_type: str = "generic",
) -> List[Dict[str, Any]]:
    """All exceptions of a chain / group, oldest first, linked by exception_id and parent_id."""
    out: List[Dict[str, Any]] = []
    seen: set = set()
    # (exception, parent_id, source) processed depth first; the raised exception gets id 0.
    todo: List[Tuple[BaseException, Optional[int], Optional[str]]] = [(exc, None, None)]
    while todo and len(out) < MAX_CHAIN:
        current, parent_id, source = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        exc_id = len(out)
        mechanism: Dict[str, Any] = {
            "type": mechanism_type if exc_id == 0 else "chained",
            "handled": handled,
            "exception_id": exc_id,
        }
        if parent_id is not None:
            mechanism["parent_id"] = parent_id
            mechanism["source"] = source
        children = getattr(current, "exceptions", None)
        is_group = isinstance(children, (list, tuple)) and _is_exception_group(current)
        if is_group:
            mechanism["is_exception_group"] = True
        out.append(_exception_value(current, frames, mechanism))
        nested: List[Tuple[BaseException, Optional[int], Optional[str]]] = []
        if is_group:
            for i, child in enumerate(children):  # type: ignore[arg-type]
                if isinstance(child, BaseException):
                    nested.append((child, exc_id, f"exceptions[{i}]"))
        cause = current.__cause__
        if cause is not None:
            nested.append((cause, exc_id, "__cause__"))
        elif not current.__suppress_context__ and current.__context__ is not None:
            nested.append((current.__context__, exc_id, "__context__"))
        todo[0:0] = nested
    out.reverse()
    return out


def _is_exception_group(exc: BaseException) -> bool:
    if _GROUP_TYPE is not None and isinstance(exc, _GROUP_TYPE):
        return True
    return any(t.__name__ == "BaseExceptionGroup" for t in type(exc).__mro__)  # backport


_IMPLEMENTATIONS = {
    "cpython": "CPython",
    "pypy": "PyPy",
    "graalpy": "GraalVM",
    "ironpython": "IronPython",
    "jython": "Jython",
}
_RELEASE_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc", "final": ""}


def runtime_contexts() -> Dict[str, Any]:
    """The runtime and os contexts (computed once per client).

    Same values as the ``platform`` module gives, read from ``sys`` and ``os.uname()``
    where they exist, so that init() does not import ``platform``.
    """
    impl = _IMPLEMENTATIONS.get(sys.implementation.name)
    uname = getattr(os, "uname", None)
    if impl is None or uname is None:
        import platform

        return {
            "runtime": {
                "name": platform.python_implementation(),
                "version": platform.python_version(),
                "build": sys.version,
            },
            "os": {"name": platform.system() or sys.platform, "version": platform.release()},
        }
    v = sys.version_info
    version = f"{v.major}.{v.minor}.{v.micro}"
    if v.releaselevel != "final":
        version += f"{_RELEASE_LEVELS.get(v.releaselevel, v.releaselevel)}{v.serial}"
    info = uname()
    return {
        "runtime": {"name": impl, "version": version, "build": sys.version},
        "os": {"name": info.sysname or sys.platform, "version": info.release},
    }


def sdk_info(integrations: List[str]) -> Dict[str, Any]:
    return {
        "name": SDK_NAME,
        "version": __version__,
        "integrations": sorted(integrations),
        "packages": [{"name": "pypi:releasetag", "version": __version__}],
    }


def message_payload(text: Any, params: Any = None) -> Dict[str, Any]:
    """A ``logentry`` for a message with optional %-style params."""
    message = safe_str(text, 8192)
    out: Dict[str, Any] = {"message": message}
    if params:
        out["params"] = serialize(params, max_depth=2)
        try:
            out["formatted"] = truncate(message % params, 8192)
        except Exception:
            out["formatted"] = message
    else:
        out["formatted"] = message
    return out


def exc_info_from(error: Any) -> Optional[Tuple[type, BaseException, Optional[TracebackType]]]:
    """Normalise an exception, exc_info tuple or None (= the one being handled) to exc_info."""
    if error is None:
        info = sys.exc_info()
        return info if info[1] is not None else None
    if isinstance(error, BaseException):
        return type(error), error, error.__traceback__
    if isinstance(error, tuple) and len(error) == 3 and isinstance(error[1], BaseException):
        return error
    return None


def describe(obj: Any) -> str:
    return safe_repr(obj, 200)
