"""Reading settings from environment variables, the same way in every part."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, Optional

TRUE_WORDS = ("1", "true", "yes", "on")


def is_true(value: Optional[str]) -> bool:
    """True for ``1``, ``true``, ``yes`` or ``on`` (any case, surrounding space ignored)."""
    return bool(value) and value.strip().lower() in TRUE_WORDS  # type: ignore[union-attr]


def env_flag(*names: str, env: Optional[Mapping[str, str]] = None) -> bool:
    """True when any of the variables ``names`` is set to a true word."""
    source = os.environ if env is None else env
    return any(is_true(source.get(name)) for name in names)
