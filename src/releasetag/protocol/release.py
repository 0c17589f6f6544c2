"""Release names and dists: Sentry's rules (what a server accepts), shared by the SDK, the
CLI and the collector. Detecting which release a process runs as is ``releasetag.detect``."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

MAX_RELEASE_LENGTH = 200
MAX_DIST_LENGTH = 64

# Characters a release name must not hold (besides '/' and '\\'): the C0 controls, DEL,
# the C1 controls, the bidirectional embeddings, overrides, isolates and marks, and the line
# and paragraph separators. Each either acts on a terminal (ESC, CSI, OSC, BEL, CR) or makes
# a name read as another one; the CLI prints release names that anyone holding a DSN key can
# create by sending an event.
CONTROL_CHARACTERS = (
    "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
    + "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    + "\u2028\u2029"
)


def first_control(text: str) -> Optional[str]:
    """The first character of ``text`` in ``CONTROL_CHARACTERS``, or None."""
    if text.isprintable():  # False for each of them: the usual name is checked in one call
        return None
    return next((ch for ch in text if ch in CONTROL_CHARACTERS), None)


def release_name_error(name: object) -> Optional[str]:
    """Return why ``name`` is not a valid release name, or None when it is valid."""
    if not isinstance(name, str):
        return "the release must be a string"
    if not name:
        return "the release must not be empty"
    if name in (".", ".."):
        return "the release must not be '.' or '..'"
    if name != name.strip():
        return "the release must not start or end with whitespace"
    if "/" in name:
        return "the release must not contain '/'"
    if "\\" in name:
        return "the release must not contain a backslash"
    if name.lower() == "latest":
        return "'latest' is reserved (the server reads it as the newest release)"
    for ch, label in (
        ("\n", "newline"),
        ("\r", "carriage return"),
        ("\t", "tab"),
        ("\x0b", "vertical tab"),
        ("\x0c", "form feed"),
    ):
        if ch in name:
            return f"the release must not contain a {label}"
    bad = first_control(name)
    if bad is not None:
        return f"the release must not contain control characters (found U+{ord(bad):04X})"
    if len(name) > MAX_RELEASE_LENGTH // 4 and len(name.encode("utf-8")) > MAX_RELEASE_LENGTH:
        size = len(name.encode("utf-8"))  # Sentry counts bytes: 200 of them, in UTF-8
        return f"the release must be at most {MAX_RELEASE_LENGTH} bytes in UTF-8 (got {size})"
    return None


def dist_error(dist: object) -> Optional[str]:
    """Return why ``dist`` is not a valid distribution name, or None when it is valid."""
    if not isinstance(dist, str):
        return "the dist must be a string"
    if not dist:
        return "the dist must not be empty"
    if dist != dist.strip():
        return "the dist must not start or end with whitespace"
    bad = first_control(dist)
    if bad is not None:
        return f"the dist must not contain control characters (found U+{ord(bad):04X})"
    if len(dist) > MAX_DIST_LENGTH:
        return f"the dist must be at most {MAX_DIST_LENGTH} characters (got {len(dist)})"
    return None


def validate_release(name: object) -> str:
    """Return ``name`` if it is a valid release name, else raise ConfigurationError (a
    ValueError) saying which rule."""
    err = release_name_error(name)
    if err:
        from .errors import ConfigurationError

        raise ConfigurationError(f"invalid release {name!r}: {err}")
    return name  # type: ignore[return-value]
