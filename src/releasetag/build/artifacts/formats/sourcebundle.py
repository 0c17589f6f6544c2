"""Source bundles (``SYSB`` + a ZIP with ``manifest.json``, see ``source_bundle.py``): the
debug ID, code ID and arch of the debug file they carry the sources of, from the manifest."""

from __future__ import annotations

import zipfile
import zlib
from typing import List

from releasetag.build.artifacts.formats import DebugObject, FormatError


def sniff(head: bytes) -> bool:
    return head[:4] == b"SYSB"


def read(path: str) -> List[DebugObject]:
    import io

    from releasetag.build.artifacts.bundle_format import (
        MANIFEST,
        BundleError,
        parse_manifest,
        zip_payload,
    )

    with open(path, "rb") as fh:
        data = fh.read()
    try:
        with zipfile.ZipFile(io.BytesIO(zip_payload(data))) as zf:
            manifest = parse_manifest(zf.read(MANIFEST))
    except (BundleError, zipfile.BadZipFile, KeyError, EOFError, RuntimeError,
            NotImplementedError, zlib.error) as exc:  # fmt: skip
        raise FormatError(f"not a valid source bundle ({exc})") from None

    def text(key: str) -> str:
        value = manifest.get(key)
        return value if isinstance(value, str) else ""

    return [
        DebugObject(
            "sourcebundle",
            "sources",
            text("debug_id").lower() or None,
            text("code_id") or None,
            text("arch") or "unknown",
            ["sources"],
            name=text("object_name") or None,
        )
    ]
