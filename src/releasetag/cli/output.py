"""Text or ``--json`` output for every command.

Every line the CLI prints may carry data it does not control: release names (an event sent
with only a DSN key can create one), commit messages, a server's error details, frame URLs.
``safe`` escapes the characters a terminal acts on, and every printer here (``emit``'s text,
``table``'s cells, ``warn``, ``error``) applies it; a command that writes a line itself passes
the outside parts through ``safe``. JSON output needs nothing: ``json.dumps`` escapes control
characters (and ``ensure_ascii`` everything beyond ASCII).

Escaped, as ``\\xNN`` / ``\\uNNNN``, are the characters release names refuse
(``protocol.release.CONTROL_CHARACTERS``): the C0 controls (ESC, BEL, CR, ...; newline and tab
too, except with ``keep_newlines``), DEL, the C1 controls (U+0080 to U+009F, which some
terminals read as CSI and OSC), the bidirectional overrides, embeddings, isolates and marks
(U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F, U+061C: they reorder what is shown,
so a name could read as another) and the line and paragraph separators U+2028, U+2029.
Backslashes are not doubled, so a Windows path reads as itself.
"""

from __future__ import annotations

import sys

from releasetag.protocol.release import CONTROL_CHARACTERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, Optional, Sequence

# each of the characters release names refuse, as an escape
_ESCAPES: Dict[int, str] = {
    ord(ch): f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    for ch in CONTROL_CHARACTERS
}
_ESCAPES_KEEP_NEWLINE = {c: v for c, v in _ESCAPES.items() if c != 0x0A}


def safe(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text a terminal shows as it is: control characters, bidi controls and
    line separators escaped (newlines kept with ``keep_newlines``, for text of several
    lines composed by the CLI itself)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the usual case: nothing to escape (isprintable is False for
        return text  # every character escaped here, and for a few harmless ones)
    return text.translate(_ESCAPES_KEEP_NEWLINE if keep_newlines else _ESCAPES)


def emit(args: Any, data: Any, text: Optional[str] = None) -> None:
    """Print ``data`` as one JSON document with --json, else ``text`` (or str(data)), with
    control characters escaped (its lines kept)."""
    if getattr(args, "json", False):
        import json  # only for --json: a command's start-up stays short

        sys.stdout.write(json.dumps(data, indent=None, default=str) + "\n")
    else:
        out = text if text is not None else str(data)
        sys.stdout.write(safe(out, keep_newlines=True) + "\n")
    sys.stdout.flush()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table; each cell escaped (a newline in a cell stays in its row)."""
    rows = [["" if v is None else safe(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def warn(message: str) -> None:
    """``warning: MESSAGE`` on stderr, as one line."""
    sys.stderr.write(f"warning: {safe(message)}\n")


def error(message: str) -> None:
    """``error: MESSAGE`` on stderr, as one line."""
    sys.stderr.write(f"error: {safe(message)}\n")
