"""The SQL of releases, their projects, repositories, commits and deploys."""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, List, Optional, Sequence, Tuple

from releasetag.protocol.timefmt import now_iso

from . import issues, pipeline
from . import notifications as notifications_db
from .database import Database


def ensure_release(c: sqlite3.Connection, version: str) -> int:
    c.execute(
        "INSERT OR IGNORE INTO releases(version, date_created) VALUES (?, ?)",
        (version, now_iso()),
    )
    return c.execute("SELECT id FROM releases WHERE version = ?", (version,)).fetchone()[0]


def update_fields(c: sqlite3.Connection, version: str, fields: Dict[str, Any]) -> None:
    allowed = ("url", "ref", "status", "date_started", "date_released")
    sets = [(k, v) for k, v in fields.items() if k in allowed]
    if sets:
        c.execute(
            "UPDATE releases SET " + ", ".join(f"{k} = ?" for k, _ in sets) + " WHERE version = ?",
            [v for _, v in sets] + [version],
        )


def ensure_repo(c: sqlite3.Connection, name: str) -> int:
    c.execute(
        "INSERT OR IGNORE INTO repos(name, provider, date_created) VALUES (?, ?, ?)",
        (name, "integrations:local", now_iso()),
    )
    return c.execute("SELECT id FROM repos WHERE name = ?", (name,)).fetchone()[0]


def ensure_commit(c: sqlite3.Connection, repo_id: int, commit: Dict[str, Any]) -> int:
    key = commit["id"]
    row = c.execute(
        "SELECT id FROM commits WHERE repo_id = ? AND key = ?", (repo_id, key)
    ).fetchone()
    values = {
        k: commit.get(k)
        for k in ("message", "author_name", "author_email", "timestamp")
        if commit.get(k) is not None
    }
    if row is None:
        cur = c.execute(
            "INSERT INTO commits(repo_id, key, message, author_name, author_email, timestamp)"
            " VALUES (?,?,?,?,?,?)",
            (
                repo_id,
                key,
                values.get("message"),
                values.get("author_name"),
                values.get("author_email"),
                values.get("timestamp"),
            ),
        )
        assert cur.lastrowid is not None
        commit_id = cur.lastrowid
    else:
        commit_id = row[0]
        if values:
            c.execute(
                "UPDATE commits SET " + ", ".join(f"{k} = ?" for k in values) + " WHERE id = ?",
                list(values.values()) + [commit_id],
            )
    patch_set = commit.get("patch_set")
    if patch_set is not None:
        c.execute("DELETE FROM commit_files WHERE commit_id = ?", (commit_id,))
        for entry in patch_set:
            c.execute(
                "INSERT OR REPLACE INTO commit_files(commit_id, path, type) VALUES (?,?,?)",
                (commit_id, entry["path"], entry["type"]),
            )
    return commit_id


def link_project(c: sqlite3.Connection, release_id: int, project_id: int) -> None:
    c.execute(
        "INSERT OR IGNORE INTO release_projects(release_id, project_id) VALUES (?, ?)",
        (release_id, project_id),
    )


class ReleasesQueries(Database):
    """Releases, repositories, commits and deploys (``Store`` methods)."""

    def release(self, version: str) -> Optional[sqlite3.Row]:
        return self.query_one("SELECT * FROM releases WHERE version = ?", (version,))

    def releases(
        self,
        project_id: Optional[int] = None,
        query: Optional[str] = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> List[sqlite3.Row]:
        sql = "SELECT r.* FROM releases r"
        params: List[Any] = []
        where = []
        if project_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM release_projects p WHERE p.release_id = r.id "
                "AND p.project_id = ?)"
            )
            params.append(project_id)
        if query:
            where.append("instr(r.version, ?) > 0")
            params.append(query)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY r.date_created DESC, r.id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        return self.query(sql, params)

    def count_releases(self) -> int:
        return int(self.query_row("SELECT COUNT(*) AS n FROM releases")["n"])

    def upsert_release(
        self, version: str, project_ids: Sequence[int], fields: Dict[str, Any]
    ) -> Tuple[sqlite3.Row, bool]:
        """Create the release (True) or update the given fields of an existing one (False)."""
        with self.write() as c:
            row = c.execute("SELECT * FROM releases WHERE version = ?", (version,)).fetchone()
            created = row is None
            if created:
                c.execute(
                    "INSERT INTO releases(version, date_created) VALUES (?, ?)",
                    (version, fields.pop("date_created", None) or now_iso()),
                )
            update_fields(c, version, fields)
            pipeline.mark_pipeline(c, version)  # a Web API client made or changed it
            release_id = c.execute(
                "SELECT id FROM releases WHERE version = ?", (version,)
            ).fetchone()[0]
            for pid in project_ids:
                c.execute(
                    "INSERT OR IGNORE INTO release_projects(release_id, project_id) VALUES (?, ?)",
                    (release_id, pid),
                )
        row = self.release(version)
        assert row is not None
        return row, created

    def update_release(self, version: str, fields: Dict[str, Any]) -> None:
        with self.write() as c:
            update_fields(c, version, fields)

    def delete_release(self, version: str) -> bool:
        with self.write() as c:
            deleted = c.execute("DELETE FROM releases WHERE version = ?", (version,)).rowcount > 0
            # inside the write lock: no transaction is reading the cache meanwhile
            with self._release_cache_lock:
                self._release_ids.clear()
                self._release_cache_gen += 1
        self.artifacts_generation += 1  # its files went with it
        return deleted

    def release_projects(self, release_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT p.* FROM projects p JOIN release_projects rp "
            "ON rp.project_id = p.id WHERE rp.release_id = ? ORDER BY p.id",
            (release_id,),
        )

    def add_repo(self, name: str, url: Optional[str]) -> Tuple[sqlite3.Row, bool]:
        with self.write() as c:
            created = c.execute("SELECT 1 FROM repos WHERE name = ?", (name,)).fetchone() is None
            ensure_repo(c, name)
            if url:
                c.execute("UPDATE repos SET url = ? WHERE name = ?", (url, name))
        return self.query_row("SELECT * FROM repos WHERE name = ?", (name,)), created

    def repos(self) -> List[sqlite3.Row]:
        return self.query("SELECT * FROM repos ORDER BY id")

    def set_release_commits(self, version: str, commits: Sequence[Dict[str, Any]]) -> int:
        """Replace the release's commits (newest first, as clients send them)."""
        with self.write() as c:
            release_id = ensure_release(c, version)
            c.execute("DELETE FROM release_commits WHERE release_id = ?", (release_id,))
            for ord_, commit in enumerate(commits):
                repo_id = ensure_repo(c, commit.get("repository") or "local")
                commit_id = ensure_commit(c, repo_id, commit)
                c.execute(
                    "INSERT OR IGNORE INTO release_commits(release_id, commit_id, ord) "
                    "VALUES (?,?,?)",
                    (release_id, commit_id, ord_),
                )
            issues.apply_commit_refs(c, release_id)
        return len(commits)

    def set_release_refs(self, version: str, refs: Sequence[Dict[str, Any]]) -> None:
        """Record the head commit (and previous commit) per repository of a release.

        Without a VCS integration the collector cannot list the commits between the two, so it
        associates the head commit itself (and remembers the range for later)."""
        with self.write() as c:
            release_id = ensure_release(c, version)
            c.execute("DELETE FROM release_heads WHERE release_id = ?", (release_id,))
            c.execute("DELETE FROM release_commits WHERE release_id = ?", (release_id,))
            for ord_, ref in enumerate(refs):
                repo_id = ensure_repo(c, ref["repository"])
                c.execute(
                    "INSERT OR REPLACE INTO release_heads(release_id, repo_id, commit_key,"
                    " previous_commit) VALUES (?,?,?,?)",
                    (release_id, repo_id, ref["commit"], ref.get("previousCommit")),
                )
                commit_id = ensure_commit(c, repo_id, {"id": ref["commit"]})
                c.execute(
                    "INSERT OR IGNORE INTO release_commits(release_id, commit_id, ord) "
                    "VALUES (?,?,?)",
                    (release_id, commit_id, ord_),
                )

    def release_commits(self, release_id: int) -> List[Dict[str, Any]]:
        """The release's commits, newest first, each with the ``files`` it changed (two
        statements, whatever the number of commits)."""
        rows = self.query(
            "SELECT c.*, r.name AS repo_name FROM release_commits rc "
            "JOIN commits c ON c.id = rc.commit_id JOIN repos r ON r.id = c.repo_id "
            "WHERE rc.release_id = ? ORDER BY rc.ord",
            (release_id,),
        )
        files: Dict[int, List[Dict[str, Any]]] = {}
        for f in self.query(
            "SELECT f.commit_id, f.path, f.type FROM release_commits rc JOIN commit_files f "
            "ON f.commit_id = rc.commit_id WHERE rc.release_id = ? ORDER BY f.path",
            (release_id,),
        ):
            files.setdefault(f["commit_id"], []).append({"path": f["path"], "type": f["type"]})
        return [dict(row, files=files.get(row["id"], [])) for row in rows]

    def release_summaries(self, release_ids: Sequence[int]) -> Dict[int, Dict[str, Any]]:
        """What a release listing shows of each release, by id, in a fixed number of
        statements: ``counts`` (environment, count, last), ``commit_count``, ``last_commit``,
        ``deploy_count``, ``last_deploy``, ``new_groups`` and ``projects``."""
        ids = list(release_ids)
        out: Dict[int, Dict[str, Any]] = {
            i: {
                "counts": [],
                "commit_count": 0,
                "last_commit": None,
                "deploy_count": 0,
                "last_deploy": None,
                "new_groups": 0,
                "projects": [],
            }
            for i in ids
        }
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        for r in self.query(
            "SELECT r.id AS release_id, e.environment, COUNT(*) AS count, "
            "MAX(e.received) AS last FROM releases r JOIN events e ON e.release = r.version "
            f"WHERE r.id IN ({marks}) GROUP BY r.id, e.environment ORDER BY e.environment",
            ids,
        ):
            out[r["release_id"]]["counts"].append(r)
        for r in self.query(
            "SELECT rc.release_id, COUNT(*) AS n FROM release_commits rc "
            f"WHERE rc.release_id IN ({marks}) GROUP BY rc.release_id",
            ids,
        ):
            out[r["release_id"]]["commit_count"] = r["n"]
        for r in self.query(
            "SELECT c.*, rp.name AS repo_name, rc.release_id FROM release_commits rc "
            "JOIN commits c ON c.id = rc.commit_id JOIN repos rp ON rp.id = c.repo_id "
            f"WHERE rc.release_id IN ({marks}) AND rc.ord = (SELECT MIN(x.ord) FROM "
            "release_commits x WHERE x.release_id = rc.release_id)",
            ids,
        ):
            out[r["release_id"]]["last_commit"] = r
        for r in self.query(
            "SELECT d.*, (SELECT COUNT(*) FROM deploys y WHERE y.release_id = d.release_id) "
            f"AS n FROM deploys d WHERE d.release_id IN ({marks}) AND d.id = (SELECT MAX(x.id) "
            "FROM deploys x WHERE x.release_id = d.release_id)",
            ids,
        ):
            out[r["release_id"]].update(deploy_count=r["n"], last_deploy=r)
        for r in self.query(
            "SELECT first_release_id AS release_id, COUNT(*) AS n FROM groups "
            f"WHERE first_release_id IN ({marks}) GROUP BY first_release_id",
            ids,
        ):
            out[r["release_id"]]["new_groups"] = r["n"]
        for r in self.query(
            "SELECT p.*, rp.release_id FROM projects p JOIN release_projects rp "
            f"ON rp.project_id = p.id WHERE rp.release_id IN ({marks}) ORDER BY p.id",
            ids,
        ):
            out[r["release_id"]]["projects"].append(r)
        return out

    def release_heads(self, release_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT h.*, r.name AS repo_name FROM release_heads h "
            "JOIN repos r ON r.id = h.repo_id WHERE h.release_id = ?",
            (release_id,),
        )

    def previous_release_with_commits(self, release: sqlite3.Row) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT r.* FROM releases r WHERE (r.date_created < ? OR "
            "(r.date_created = ? AND r.id < ?)) AND EXISTS (SELECT 1 FROM release_commits rc "
            "WHERE rc.release_id = r.id) ORDER BY r.date_created DESC, r.id DESC LIMIT 1",
            (release["date_created"], release["date_created"], release["id"]),
        )

    def last_commit(self, release_id: int) -> Optional[sqlite3.Row]:
        return self.query_one(
            "SELECT c.*, r.name AS repo_name FROM release_commits rc JOIN commits c "
            "ON c.id = rc.commit_id JOIN repos r ON r.id = c.repo_id WHERE rc.release_id = ? "
            "ORDER BY rc.ord LIMIT 1",
            (release_id,),
        )

    def commit_count(self, release_id: int) -> int:
        return self.query_row(
            "SELECT COUNT(*) AS n FROM release_commits WHERE release_id = ?", (release_id,)
        )["n"]

    def add_deploy(
        self,
        version: str,
        deploy: Dict[str, Any],
        notifications: Sequence[Dict[str, Any]] = (),
    ) -> sqlite3.Row:
        """Store a deploy and the outcome of its notifications (``name``, ``email``,
        ``status``, ``detail``) in one transaction: both or neither."""
        with self.write() as c:
            release_id = ensure_release(c, version)
            cur = c.execute(
                "INSERT INTO deploys(release_id, environment, name, url, date_started, "
                "date_finished) VALUES (?,?,?,?,?,?)",
                (
                    release_id,
                    deploy["environment"],
                    deploy.get("name"),
                    deploy.get("url"),
                    deploy.get("date_started"),
                    deploy.get("date_finished") or now_iso(),
                ),
            )
            deploy_id = cur.lastrowid
            assert deploy_id is not None
            notifications_db.record(c, deploy_id, notifications)
        return self.query_row("SELECT * FROM deploys WHERE id = ?", (deploy_id,))

    def deploys(self, release_id: int) -> List[sqlite3.Row]:
        return self.query(
            "SELECT * FROM deploys WHERE release_id = ? ORDER BY id DESC", (release_id,)
        )
