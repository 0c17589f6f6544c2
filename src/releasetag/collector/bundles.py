"""Read and check an uploaded artifact bundle: ``SYSB`` + u32 version + ZIP with manifest.json.

Everything is checked before anything is stored: entry names (no absolute paths, no ``..``),
the number of entries, the total inflated size and the compression ratio (zip bombs), and the
manifest's shape. Errors are ``BundleError`` with a one-line reason.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from typing import Any, Dict, List

from releasetag.protocol import jsonfmt
from releasetag.protocol.errors import ArtifactError

MAGIC = b"SYSB"
MAX_ENTRIES = 10000
MAX_INFLATED_TOTAL = 512 * 1024 * 1024
MAX_ENTRY = 128 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed, for entries over RATIO_MIN_SIZE
RATIO_MIN_SIZE = 1024 * 1024


class BundleError(ArtifactError, ValueError):
    """The bytes are not an acceptable artifact bundle."""


def _check_name(name: str) -> None:
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise BundleError(f"bundle entry {name!r} has an absolute path")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise BundleError(f"bundle entry {name!r} leaves the bundle (contains '..')")
    if "\x00" in name:
        raise BundleError("bundle entry name contains a NUL byte")


def read_bundle(data: bytes) -> Dict[str, Any]:
    """Parse bundle bytes into {manifest, files: [{path, name, type, debug_id, headers, data}]}."""
    if data[:4] == MAGIC:
        if len(data) < 8:
            raise BundleError("bundle is truncated after the SYSB header")
        (version,) = struct.unpack("<I", data[4:8])
        if version != 2:
            raise BundleError(f"unsupported bundle version {version} (expected 2)")
        payload = data[8:]
    elif data[:4] == b"PK\x03\x04":
        payload = data
    else:
        raise BundleError("not an artifact bundle (expected the SYSB header or a ZIP archive)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise BundleError(f"bundle is not a valid ZIP archive: {exc}") from None
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"bundle has {len(infos)} entries, more than {MAX_ENTRIES}")
    total = 0
    for info in infos:
        _check_name(info.filename)
        total += info.file_size
        if info.file_size > MAX_ENTRY:
            raise BundleError(
                f"bundle entry {info.filename!r} inflates to {info.file_size} "
                f"bytes, over the limit of {MAX_ENTRY}"
            )
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise BundleError(
                f"bundle entry {info.filename!r} has a compression ratio over "
                f"{MAX_RATIO}:1 (zip bomb?)"
            )
    if total > RATIO_MIN_SIZE and total > MAX_RATIO * max(len(payload), 1):
        # many small entries, each under the per-entry check, can still be a zip bomb
        raise BundleError(
            f"bundle inflates to {total} bytes from {len(payload)}: a compression ratio over "
            f"{MAX_RATIO}:1 (zip bomb?)"
        )
    if total > MAX_INFLATED_TOTAL:
        raise BundleError(
            f"bundle inflates to {total} bytes, over the limit of {MAX_INFLATED_TOTAL}"
        )
    names = {info.filename for info in infos}
    if "manifest.json" not in names:
        raise BundleError("bundle has no manifest.json")
    manifest_bytes = _read(archive, archive.getinfo("manifest.json"))
    try:
        manifest = jsonfmt.loads(manifest_bytes, "manifest.json")
    except jsonfmt.JsonError as exc:
        raise BundleError(f"bundle {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", {}), dict):
        raise BundleError("bundle manifest.json must be an object with a 'files' object")
    files: List[Dict[str, Any]] = []
    for path, entry in (manifest.get("files") or {}).items():
        if not isinstance(entry, dict):
            raise BundleError(f"manifest entry {path!r} must be an object")
        _check_name(path)
        if path not in names:
            raise BundleError(f"manifest lists {path!r}, which is not in the bundle")
        headers = entry.get("headers") or {}
        if not isinstance(headers, dict):
            raise BundleError(f"manifest entry {path!r} has invalid headers")
        headers = {str(k).lower(): str(v) for k, v in headers.items()}
        url = entry.get("url") or posixpath.basename(path)
        debug_id = headers.get("debug-id")
        files.append(
            {
                "path": path,
                "name": str(url),
                "type": entry.get("type"),
                "debug_id": debug_id.lower() if debug_id else None,
                "headers": headers,
                "data": _read(archive, archive.getinfo(path)),
            }
        )
    return {"manifest": manifest, "files": files}


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read an entry without trusting its declared size."""
    try:
        with archive.open(info) as fh:
            data = fh.read(info.file_size + 1)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        zlib.error,
    ) as exc:
        raise BundleError(f"bundle entry {info.filename!r} cannot be read: {exc}") from None
    if len(data) > info.file_size:
        raise BundleError(f"bundle entry {info.filename!r} is larger than it declares")
    return data
