"""The library's loggers, created on first use so that ``import releasetag`` stays cheap."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Dict

_loggers: Dict[str, logging.Logger] = {}


def get_logger(name: str = "releasetag") -> logging.Logger:
    """``logging.getLogger(name)``, with a NullHandler on the library's root logger."""
    found = _loggers.get(name)
    if found is None:
        import logging

        root = logging.getLogger("releasetag")
        if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
            root.addHandler(logging.NullHandler())
        found = _loggers[name] = logging.getLogger(name)
    return found


def internal_error(what: str, *args: object) -> None:
    """Note an exception releasetag caught so that it never reaches the host app (call it in
    the ``except`` block): a debug line with the traceback on ``releasetag.internal``. Seen
    with ``debug=True``; the test suite fails the test that caused one."""
    try:
        get_logger("releasetag.internal").debug(what, *args, exc_info=True)
    except Exception:  # logging itself failed (interpreter shutdown): nothing more to do
        pass
