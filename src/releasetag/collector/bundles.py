"""Read and check an uploaded artifact bundle (the format: ``build/artifacts/bundle_format``).

Everything is checked before anything is stored: entry names (no absolute paths, no ``..``),
the number of entries, the total inflated size and the compression ratio (zip bombs), and the
manifest's shape. Errors are ``BundleError`` with a one-line reason.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any, Dict, List

from releasetag.build.artifacts.bundle_format import (
    MANIFEST,
    BundleError,
    check_entry_name,
    manifest_files,
    parse_manifest,
    zip_payload,
)

MAX_ENTRIES = 10000
MAX_INFLATED_TOTAL = 512 * 1024 * 1024
MAX_ENTRY = 128 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed, for entries over RATIO_MIN_SIZE
RATIO_MIN_SIZE = 1024 * 1024


def read_bundle(data: bytes) -> Dict[str, Any]:
    """Parse bundle bytes into {manifest, files: [{path, name, type, debug_id, headers, data}]}."""
    payload = zip_payload(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise BundleError(f"bundle is not a valid ZIP archive: {exc}") from None
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"bundle has {len(infos)} entries, more than {MAX_ENTRIES}")
    total = 0
    for info in infos:
        check_entry_name(info.filename)
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
    if MANIFEST not in names:
        raise BundleError(f"bundle has no {MANIFEST}")
    manifest = parse_manifest(_read(archive, archive.getinfo(MANIFEST)))
    files: List[Dict[str, Any]] = []
    for path, entry in manifest_files(manifest):
        if path not in names:
            raise BundleError(f"manifest lists {path!r}, which is not in the bundle")
        debug_id = entry["headers"].get("debug-id")
        files.append(
            {
                "path": path,
                "name": entry["url"],
                "type": entry["type"],
                "debug_id": debug_id.lower() if debug_id else None,
                "headers": entry["headers"],
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
