"""JavaScript sourcemaps: debug IDs, the map a JS file names, and reading maps.

Debug ID (the same sentry-cli derives): SHA-1 over ``b"js" + u64le(len(js)) + js +
b"sourcemap" + u64le(len(map)) + map`` when the JS file has a map (the map's own bytes, decoded
for an inline ``data:`` map), over the JS bytes alone when it has none; the first 16 bytes with
the UUID version set to 5 and the RFC 4122 variant. A map that already carries ``debugId`` (or
``debug_id``) keeps it. Injecting the IDs lives in ``inject``, collecting files for an upload
in ``collect``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
import uuid
from typing import Any, Dict, Optional, Tuple
from urllib.parse import unquote

from releasetag.protocol.errors import ArtifactError

JS_EXTENSIONS = ("js", "cjs", "mjs")


class SourceMapError(ArtifactError):
    """A file cannot be processed; the message names what is wrong."""


def debug_id_from_hash(digest: bytes) -> str:
    """The first 16 bytes of a SHA-1 as a version-5, RFC 4122 variant UUID string."""
    return str(uuid.UUID(bytes=digest[:16], version=5))


def derive_debug_id(js: bytes, smap: Optional[bytes]) -> str:
    """The deterministic debug ID for a JS file and (optionally) its map's bytes."""
    if smap is None:
        return debug_id_from_hash(hashlib.sha1(js).digest())
    h = hashlib.sha1()
    h.update(b"js" + struct.pack("<Q", len(js)))
    h.update(js)
    h.update(b"sourcemap" + struct.pack("<Q", len(smap)))
    h.update(smap)
    return debug_id_from_hash(h.digest())


def normalize_debug_id(value: Any) -> Optional[str]:
    """A debug ID string in canonical lowercase hyphenated form, or None if not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value.strip()[:36]))
    except ValueError:
        return None


def js_debug_id(text: str) -> Optional[str]:
    """The ``//# debugId=`` of an already injected JS file (the last one; searched from the
    end, where it lives, so large files cost little)."""
    pos = len(text)
    while True:
        at = text.rfind("//# debugId=", 0, pos)
        if at < 0:
            return None
        if at == 0 or text[at - 1] == "\n":
            end = text.find("\n", at)
            found = normalize_debug_id(text[at + 12 : end if end >= 0 else len(text)].strip())
            if found:
                return found
        pos = at


def map_debug_id(smap: Dict[str, Any]) -> Optional[str]:
    return normalize_debug_id(smap.get("debugId")) or normalize_debug_id(smap.get("debug_id"))


_MAP_PREFIX = re.compile(r"[ \t]*//[#@][ \t]*")


def sourcemap_url(text: str) -> Optional[str]:
    """The last ``//# sourceMappingURL=`` (or ``//@``) of a JS file, searched from the end."""
    pos = len(text)
    while True:
        at = text.rfind("sourceMappingURL=", 0, pos)
        if at < 0:
            return None
        line_start = text.rfind("\n", 0, at) + 1
        if _MAP_PREFIX.fullmatch(text, line_start, at):
            end = text.find("\n", at)
            value = text[at + 17 : end if end >= 0 else len(text)].strip()
            if value and not any(ch.isspace() for ch in value):
                return value
        pos = at


def decode_data_url(url: str) -> Tuple[str, bytes]:
    """Split a ``data:`` URL into (preamble up to the comma, decoded bytes)."""
    head, comma, payload = url.partition(",")
    if not comma:
        raise SourceMapError("inline sourcemap data: URL has no comma")
    if head.endswith(";base64"):
        try:
            return head + ",", base64.b64decode(payload, validate=False)
        except ValueError as exc:  # binascii.Error is a ValueError
            raise SourceMapError(f"inline sourcemap is not valid base64 ({exc})") from None
    return head + ",", unquote(payload).encode("utf-8")


def encode_data_url(preamble: str, data: bytes) -> str:
    if preamble.endswith(";base64,"):
        return preamble + base64.b64encode(data).decode("ascii")
    from urllib.parse import quote

    return preamble + quote(data.decode("utf-8"), safe="")


def locate_map(js_path: str, text: str) -> Tuple[Optional[str], Optional[str]]:
    """(map path or ``data:`` URL, reference as written) for a JS file; (None, ref) when the
    referenced map does not exist; a ``<file>.map`` next to the file is used without a ref."""
    ref = sourcemap_url(text)
    if ref is not None:
        if ref.startswith("data:"):
            return ref, ref
        clean = unquote(ref.split("?", 1)[0].split("#", 1)[0])
        if "://" in clean:
            clean = clean.rsplit("/", 1)[-1]
        candidate = os.path.normpath(os.path.join(os.path.dirname(js_path), clean))
        return (candidate if os.path.isfile(candidate) else None), ref
    sibling = js_path + ".map"
    return (sibling if os.path.isfile(sibling) else None), None


def load_map(data: bytes, where: str) -> Dict[str, Any]:
    try:
        smap = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceMapError(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(smap, dict) or not (
        isinstance(smap.get("mappings"), str) or isinstance(smap.get("sections"), list)
    ):
        raise SourceMapError(f"{where} is not a sourcemap (no mappings or sections)")
    return smap


def dump_map(smap: Dict[str, Any]) -> bytes:
    """A map as compact UTF-8 JSON."""
    return json.dumps(smap, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
