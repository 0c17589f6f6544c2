"""The artifact bundle format, written by ``bundle`` and read by the collector's ``bundles``.

A bundle is ``SYSB`` + little-endian u32 ``2`` + a ZIP archive. The archive holds every file
under ``files/<scheme or _>/<host or _>/<path>`` (from its URL) and a ``manifest.json``:

    {"files": {"<archive path>": {"url": ..., "type": ..., "headers": {...}}},
     "org": ..., "project": ..., "release": ..., "dist": ..., "note": ..., "debug_id": ...}

Top-level values are strings; ``headers`` names are lower case (``debug-id``, ``sourcemap``).
"""

from __future__ import annotations

import struct
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from releasetag.protocol import jsonfmt
from releasetag.protocol.errors import ArtifactError

SIGNATURE = b"SYSB"
VERSION = 2
MAGIC = SIGNATURE + struct.pack("<I", VERSION)  # the 8 bytes every bundle starts with
MANIFEST = "manifest.json"


class BundleError(ArtifactError, ValueError):
    """Files that cannot be packed into a bundle, or bytes that are not an acceptable one."""


def zip_name(url: str) -> str:
    """Archive path for a URL: ``files/<scheme or _>/<host or _>/<path>``."""
    if url.startswith("~/"):
        scheme, host, path = "_", "_", url[2:]
    else:
        parts = urlsplit(url)
        scheme, host = parts.scheme or "_", parts.netloc or "_"
        path = parts.path.lstrip("/")
    if any(part in (".", "..") for part in path.replace("\\", "/").split("/")) or "/" in host:
        raise BundleError(f"the URL {url!r} would leave the bundle's folder ('.' or '..')")
    return f"files/{scheme}/{host}/{path}"


def check_entry_name(name: str) -> None:
    """Refuse an archive path that is absolute, leaves the archive or holds a NUL byte."""
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise BundleError(f"bundle entry {name!r} has an absolute path")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise BundleError(f"bundle entry {name!r} leaves the bundle (contains '..')")
    if "\x00" in name:
        raise BundleError("bundle entry name contains a NUL byte")


def manifest_entry(url: str, type_: str, headers: Dict[str, str]) -> Dict[str, Any]:
    """One file's manifest entry (headers sorted, left out when there are none)."""
    entry: Dict[str, Any] = {"url": url, "type": type_}
    if headers:
        entry["headers"] = dict(sorted(headers.items()))
    return entry


def make_manifest(
    files: Dict[str, Any],
    *,
    org: Optional[str] = None,
    projects: Sequence[str] = (),
    release: Optional[str] = None,
    dist: Optional[str] = None,
    note: Optional[str] = None,
) -> Dict[str, Any]:
    """The manifest for ``files`` (archive path -> entry) without its ``debug_id``."""
    manifest: Dict[str, Any] = {"files": files}
    if org:
        manifest["org"] = org
    if projects:
        manifest["project"] = projects[0]  # top-level values are strings only
    if release:
        manifest["release"] = release
    if dist:
        manifest["dist"] = dist
    if note:
        manifest["note"] = note
    return manifest


def zip_payload(data: bytes) -> bytes:
    """The ZIP archive inside bundle bytes (checks the header; a bare ZIP is taken too)."""
    if data[:4] == SIGNATURE:
        if len(data) < 8:
            raise BundleError("bundle is truncated after the SYSB header")
        (version,) = struct.unpack("<I", data[4:8])
        if version != VERSION:
            raise BundleError(f"unsupported bundle version {version} (expected {VERSION})")
        return data[8:]
    if data[:4] == b"PK\x03\x04":
        return data
    raise BundleError("not an artifact bundle (expected the SYSB header or a ZIP archive)")


def parse_manifest(data: bytes) -> Dict[str, Any]:
    """``manifest.json``'s bytes as a dict with a ``files`` object."""
    try:
        manifest = jsonfmt.loads(data, MANIFEST)
    except jsonfmt.JsonError as exc:
        raise BundleError(f"bundle {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", {}), dict):
        raise BundleError(f"bundle {MANIFEST} must be an object with a 'files' object")
    return manifest


def manifest_files(manifest: Dict[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(archive path, {url, type, headers with lower-case names}) per manifest entry."""
    for path, entry in (manifest.get("files") or {}).items():
        if not isinstance(entry, dict):
            raise BundleError(f"manifest entry {path!r} must be an object")
        check_entry_name(path)
        headers = entry.get("headers") or {}
        if not isinstance(headers, dict):
            raise BundleError(f"manifest entry {path!r} has invalid headers")
        headers = {str(k).lower(): str(v) for k, v in headers.items()}
        url = entry.get("url") or path.rsplit("/", 1)[-1]
        yield path, {"url": str(url), "type": entry.get("type"), "headers": headers}


def read_manifest(path: str) -> Dict[str, Any]:
    """The manifest of a bundle file on disk."""
    import io
    import zipfile

    with open(path, "rb") as fh:
        with zipfile.ZipFile(io.BytesIO(zip_payload(fh.read()))) as zf:
            return parse_manifest(zf.read(MANIFEST))


def list_files(path: str) -> Sequence[str]:
    """The archive paths in a bundle file on disk."""
    import io
    import zipfile

    with open(path, "rb") as fh:
        with zipfile.ZipFile(io.BytesIO(zip_payload(fh.read()))) as zf:
            return zf.namelist()
