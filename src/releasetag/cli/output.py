"""Text or ``--json`` output for every command."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional, Sequence


def emit(args: Any, data: Any, text: Optional[str] = None) -> None:
    """Print ``data`` as one JSON document with --json, else ``text`` (or str(data))."""
    if getattr(args, "json", False):
        import json  # only for --json: a command's start-up stays short

        sys.stdout.write(json.dumps(data, indent=None, default=str) + "\n")
    else:
        sys.stdout.write((text if text is not None else str(data)) + "\n")
    sys.stdout.flush()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")
