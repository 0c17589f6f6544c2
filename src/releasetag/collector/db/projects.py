"""The SQL of the meta table (collector settings) and projects."""

from __future__ import annotations

import sqlite3
from typing import Any, List, Optional

from releasetag.protocol.timefmt import now_iso

from .database import Database


class ProjectsQueries(Database):
    """Meta settings and projects (``Store`` methods)."""

    def get_meta(self, key: str) -> Optional[str]:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as c:
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def ensure_project(self, slug: str, name: str, public_key: str) -> sqlite3.Row:
        with self.write() as c:
            c.execute(
                "INSERT OR IGNORE INTO projects(slug, name, public_key, date_created) "
                "VALUES (?, ?, ?, ?)",
                (slug, name, public_key, now_iso()),
            )
        return self.query_row("SELECT * FROM projects WHERE slug = ?", (slug,))

    def projects(self) -> List[sqlite3.Row]:
        return self.query("SELECT * FROM projects ORDER BY id")

    def project(self, slug_or_id: Any) -> Optional[sqlite3.Row]:
        """A project by id or slug (cached: projects do not change while serving)."""
        text = str(slug_or_id)
        cached = self._projects.get(text)
        if cached is not None:
            return cached
        row = self._project(text)
        if row is not None:
            self._projects[text] = row
        return row

    def _project(self, text: str) -> Optional[sqlite3.Row]:
        if text.isdigit():
            row = self.query_one("SELECT * FROM projects WHERE id = ?", (int(text),))
            if row:
                return row
        return self.query_one("SELECT * FROM projects WHERE slug = ?", (text,))
