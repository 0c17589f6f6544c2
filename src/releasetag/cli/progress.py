"""A one-line progress bar on a terminal; silent in CI, with --json, or when piped."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Optional

_CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "TRAVIS", "TF_BUILD")


def progress_bar(args: Any, label: str) -> Optional[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing on stderr, or None when output should
    stay quiet."""
    stream = sys.stderr
    if (
        getattr(args, "json", False)
        or not stream.isatty()
        or any(os.environ.get(v) for v in _CI_VARS)
    ):
        return None
    started = time.monotonic()

    def draw(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        rate = done / max(time.monotonic() - started, 1e-6)
        stream.write(
            f"\r> {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({rate:.1f}/s)"
        )
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw
