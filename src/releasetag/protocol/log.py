"""The library's loggers, created on first use so that ``import releasetag`` stays cheap."""

from __future__ import annotations

_loggers: dict = {}


def get_logger(name: str = "releasetag"):  # type: ignore[no-untyped-def]
    """``logging.getLogger(name)``, with a NullHandler on the library's root logger."""
    found = _loggers.get(name)
    if found is None:
        import logging

        root = logging.getLogger("releasetag")
        if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
            root.addHandler(logging.NullHandler())
        found = _loggers[name] = logging.getLogger(name)
    return found
