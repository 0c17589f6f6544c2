"""The SQL of uploaded files: chunks, artifact bundles, release files (artifacts) and debug
files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any, Dict, List, Optional, Sequence, Tuple

from releasetag.protocol.timefmt import now_iso

from .database import Database
from .releases import ensure_release


def insert_artifact(c: sqlite3.Connection, f: Dict[str, Any]) -> int:
    data = f["data"]
    cur = c.execute(
        "INSERT INTO artifacts(bundle_id, release_id, release, dist, name, type, debug_id, "
        "headers, sha1, size, date_added, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            f.get("bundle_id"),
            f.get("release_id"),
            f.get("release"),
            f.get("dist"),
            f["name"],
            f.get("type"),
            f.get("debug_id"),
            json.dumps(f.get("headers") or {}),
            hashlib.sha1(data).hexdigest(),
            len(data),
            now_iso(),
            data,
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


class ArtifactsQueries(Database):
    """Chunks, bundles, release files and debug files (``Store`` methods)."""

    def put_chunks(self, chunks: Sequence[Tuple[str, bytes]]) -> None:
        with self.write() as c:
            for sha1, data in chunks:
                c.execute(
                    "INSERT OR IGNORE INTO chunks(sha1, size, data) VALUES (?,?,?)",
                    (sha1, len(data), data),
                )

    def missing_chunks(self, checksums: Sequence[str]) -> List[str]:
        missing = []
        for sha1 in checksums:
            if not self.query_one("SELECT 1 FROM chunks WHERE sha1 = ?", (sha1,)):
                if sha1 not in missing:
                    missing.append(sha1)
        return missing

    def delete_chunks(self, checksums: Sequence[str]) -> None:
        """Drop chunks once the file they made up is stored."""
        with self.write() as c:
            c.executemany("DELETE FROM chunks WHERE sha1 = ?", [(s,) for s in set(checksums)])

    def chunk(self, sha1: str) -> Optional[bytes]:
        row = self.query_one("SELECT data FROM chunks WHERE sha1 = ?", (sha1,))
        return bytes(row["data"]) if row else None

    def bundle(self, checksum: str) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT id, checksum, bundle_id, release, dist, projects, "
            "file_count, size, date_added FROM bundles WHERE checksum = ?",
            (checksum,),
        )

    def add_bundle(
        self, checksum: str, data: bytes, meta: Dict[str, Any], files: Sequence[Dict[str, Any]]
    ) -> bool:
        """Store a bundle and its files in one transaction; False if the checksum is known."""
        with self.write() as c:
            if c.execute("SELECT 1 FROM bundles WHERE checksum = ?", (checksum,)).fetchone():
                return False
            release_id = ensure_release(c, meta["release"]) if meta.get("release") else None
            cur = c.execute(
                "INSERT INTO bundles(checksum, bundle_id, release, dist, projects, file_count, "
                "size, date_added, data) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    checksum,
                    meta.get("bundle_id"),
                    meta.get("release"),
                    meta.get("dist"),
                    json.dumps(meta.get("projects") or []),
                    len(files),
                    len(data),
                    now_iso(),
                    data,
                ),
            )
            bundle_id = cur.lastrowid
            for f in files:
                insert_artifact(
                    c,
                    dict(
                        f,
                        bundle_id=bundle_id,
                        release_id=release_id,
                        release=meta.get("release"),
                        dist=meta.get("dist"),
                    ),
                )
        self.artifacts_generation += 1
        return True

    def add_release_file(
        self, version: str, name: str, data: bytes, dist: Optional[str], headers: Dict[str, str]
    ) -> Optional[sqlite3.Row]:
        """A legacy release file; None when the release already has a file of that name."""
        with self.write() as c:
            release_id = ensure_release(c, version)
            exists = c.execute(
                "SELECT 1 FROM artifacts WHERE release_id = ? AND name = ? AND "
                "bundle_id IS NULL AND dist IS ?",
                (release_id, name, dist),
            )
            if exists.fetchone():
                return None
            artifact_id = insert_artifact(
                c,
                {
                    "release_id": release_id,
                    "release": version,
                    "dist": dist,
                    "name": name,
                    "type": None,
                    "headers": headers,
                    "data": data,
                    "debug_id": headers.get("debug-id"),
                },
            )
        self.artifacts_generation += 1
        return self.artifact(artifact_id)

    def artifact(self, artifact_id: int) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, "
            "headers, sha1, size, date_added FROM artifacts WHERE id = ?",
            (artifact_id,),
        )

    def artifact_data(self, artifact_id: int) -> Optional[bytes]:
        row = self.query_one("SELECT data FROM artifacts WHERE id = ?", (artifact_id,))
        return bytes(row["data"]) if row else None

    def release_artifacts(self, version: str) -> List[sqlite3.Row]:
        """Files of a release: legacy release files and the files of its bundles."""
        return self.query(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, headers, "
            "sha1, size, date_added FROM artifacts WHERE release = ? "
            "ORDER BY name, id",
            (version,),
        )

    def bundle_artifacts(self, bundle_id: int) -> List[sqlite3.Row]:
        """The files of one uploaded bundle."""
        return self.query(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, headers, "
            "sha1, size, date_added FROM artifacts WHERE bundle_id = ? ORDER BY name, id",
            (bundle_id,),
        )

    def artifacts_by_debug_id(self, debug_id: str) -> List[sqlite3.Row]:
        return self.query(
            "SELECT id, bundle_id, release, dist, name, type, debug_id, headers, "
            "sha1, size, date_added FROM artifacts WHERE debug_id = ? ORDER BY id",
            (debug_id.lower(),),
        )

    def bundles(self, release: Optional[str] = None) -> List[sqlite3.Row]:
        sql = (
            "SELECT id, checksum, bundle_id, release, dist, projects, file_count, size, "
            "date_added FROM bundles"
        )
        if release is not None:
            return self.query(sql + " WHERE release = ? ORDER BY id", (release,))
        return self.query(sql + " ORDER BY id")

    def debug_file(self, project_id: int, checksum: str) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT id, project_id, checksum, name, debug_id, code_id, "
            "object_name, cpu_name, kind, size, date_added FROM debug_files "
            "WHERE project_id = ? AND checksum = ?",
            (project_id, checksum),
        )

    def add_debug_file(
        self, project_id: int, checksum: str, data: bytes, info: Dict[str, Any]
    ) -> sqlite3.Row:
        with self.write() as c:
            c.execute(
                "INSERT OR IGNORE INTO debug_files(project_id, checksum, name, debug_id, "
                "code_id, object_name, cpu_name, kind, size, date_added, data) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    project_id,
                    checksum,
                    info["name"],
                    info.get("debug_id"),
                    info.get("code_id"),
                    info.get("object_name"),
                    info.get("cpu_name"),
                    info.get("kind"),
                    len(data),
                    now_iso(),
                    data,
                ),
            )
        self.artifacts_generation += 1
        row = self.debug_file(project_id, checksum)
        assert row is not None
        return row

    def debug_files_by_debug_id(self, project_id: int, debug_id: str) -> List[sqlite3.Row]:
        """The project's debug files with this debug ID, newest last."""
        return self.query(
            "SELECT id, project_id, checksum, name, debug_id, code_id, "
            "object_name, cpu_name, kind, size, date_added FROM debug_files "
            "WHERE project_id = ? AND lower(debug_id) = ? ORDER BY id",
            (project_id, debug_id.lower()),
        )

    def debug_file_data(self, file_id: int) -> Optional[bytes]:
        row = self.query_one("SELECT data FROM debug_files WHERE id = ?", (file_id,))
        return bytes(row["data"]) if row else None

    def debug_files(self, project_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT id, project_id, checksum, name, debug_id, code_id, "
            "object_name, cpu_name, kind, size, date_added FROM debug_files "
            "WHERE project_id = ? ORDER BY id",
            (project_id,),
        )
