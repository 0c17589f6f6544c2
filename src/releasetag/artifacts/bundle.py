"""Artifact bundles: ``SYSB`` + little-endian u32 ``2`` + a ZIP holding the files and a
``manifest.json``. Entries are sorted and carry fixed timestamps and modes, so the same input
gives the same bytes (and checksum). Files are streamed into a temporary file: memory stays
bounded however large the bundle is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import urlsplit

MAGIC = b"SYSB" + struct.pack("<I", 2)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 1  # fast; JS compresses well even at level 1
_COPY = 1 << 20


@dataclass
class BundleFile:
    """One file to put into a bundle."""

    path: str                     # on disk
    url: str                      # e.g. ~/static/app.js
    type: str                     # minified_source | source_map | source
    headers: Dict[str, str] = field(default_factory=dict)
    map_path: Optional[str] = None  # a minified file's map on disk, when known

    @property
    def debug_id(self) -> Optional[str]:
        return self.headers.get("debug-id")


def zip_name(url: str) -> str:
    """Archive path for a URL: ``files/<scheme or _>/<host or _>/<path>``."""
    if url.startswith("~/"):
        scheme, host, path = "_", "_", url[2:]
    else:
        parts = urlsplit(url)
        scheme, host = parts.scheme or "_", parts.netloc or "_"
        path = parts.path.lstrip("/")
    return f"files/{scheme}/{host}/{path}"


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    # the level lives in _compresslevel up to Python 3.12 and compress_level from 3.13
    try:
        setattr(info, "compress_level", COMPRESS_LEVEL)
    except AttributeError:
        setattr(info, "_compresslevel", COMPRESS_LEVEL)
    return info


def write_bundle(files: Sequence[BundleFile], out, *, org: Optional[str] = None,
                 projects: Sequence[str] = (), release: Optional[str] = None,
                 dist: Optional[str] = None) -> Dict[str, Any]:
    """Write the bundle for ``files`` into the binary file object ``out``; returns the manifest."""
    entries = sorted(files, key=lambda f: zip_name(f.url))
    seen = set()
    manifest_files: Dict[str, Any] = {}
    ident = hashlib.sha1()
    out.write(MAGIC)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=COMPRESS_LEVEL) as zf:
        for f in entries:
            name = zip_name(f.url)
            if name in seen:
                continue  # two paths with the same URL: the first (sorted) wins
            seen.add(name)
            info = _info(name)
            size = os.path.getsize(f.path)
            digest = hashlib.sha1()
            with open(f.path, "rb") as src, zf.open(info, "w", force_zip64=size > 1 << 30) as dst:
                while True:
                    block = src.read(_COPY)
                    if not block:
                        break
                    digest.update(block)
                    dst.write(block)
            ident.update(name.encode("utf-8") + b"\0" + digest.digest())
            entry: Dict[str, Any] = {"url": f.url, "type": f.type}
            if f.headers:
                entry["headers"] = dict(sorted(f.headers.items()))
            manifest_files[name] = entry
        manifest: Dict[str, Any] = {"files": manifest_files}
        if org:
            manifest["org"] = org
        if projects:
            manifest["project"] = projects[0]  # top-level values are strings only
        if release:
            manifest["release"] = release
        if dist:
            manifest["dist"] = dist
        ident.update(json.dumps(manifest, sort_keys=True).encode("utf-8"))
        manifest["debug_id"] = str(uuid.UUID(bytes=ident.digest()[:16], version=5))
        zf.writestr(_info("manifest.json"),
                    json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return manifest


def build_bundle(files: Sequence[BundleFile], directory: Optional[str] = None,
                 **meta: Any) -> "BuiltBundle":
    """Write a bundle to a new temporary file (removed by ``BuiltBundle.close``)."""
    fd, path = tempfile.mkstemp(prefix="releasetag-bundle-", suffix=".zip", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            manifest = write_bundle(files, out, **meta)
    except BaseException:
        os.unlink(path)
        raise
    return BuiltBundle(path, manifest)


@dataclass
class BuiltBundle:
    """A bundle written to ``path`` (a temporary file) and its manifest."""

    path: str
    manifest: Dict[str, Any]

    @property
    def size(self) -> int:
        return os.path.getsize(self.path)

    def close(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> "BuiltBundle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def copy_to(self, dest: str) -> None:
        shutil.copyfile(self.path, dest)


def read_manifest(path: str) -> Dict[str, Any]:
    """The manifest of a bundle file (checks the ``SYSB`` header)."""
    with open(path, "rb") as fh:
        if fh.read(8) != MAGIC:
            raise ValueError("not an artifact bundle (no SYSB v2 header)")
        with zipfile.ZipFile(fh) as zf:
            return json.loads(zf.read("manifest.json"))


def list_files(path: str) -> List[str]:
    with open(path, "rb") as fh:
        fh.read(8)
        with zipfile.ZipFile(fh) as zf:
            return zf.namelist()
