"""What ``set-commits`` keeps and limits: ``--path`` (the paths of one service in a monorepo),
the commits other repositories already gave the release (several repositories append instead
of replacing each other), and whether a server repository reads commits itself.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence

from releasetag.build.webapi import releases as api
from releasetag.build.webapi.client import ApiError
from releasetag.protocol.errors import ReleasetagError, UsageError

from .output import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from releasetag.build.vcs import GitRepo


def reads_commits(repo: Dict[str, Any]) -> bool:
    """Whether the server reads a repository's commits itself from a ref: it has a provider
    integration (Sentry's ``integrationId``), or a provider plugin (a provider id without the
    ``integrations:`` prefix). The collector's repositories and Sentry's repositories created
    from uploaded commits have neither, and would record a bare ref as an empty commit."""
    if repo.get("integrationId"):
        return True
    provider = repo.get("provider")
    pid = provider.get("id") if isinstance(provider, dict) else None
    return bool(pid) and not str(pid).startswith("integrations:")


def repo_paths(repo: GitRepo, paths: Sequence[str]) -> List[str]:
    """``--path`` values as paths relative to the repository root (``/`` separated).
    Outside the repository: a usage error; a path no commit touches: an error."""
    root = os.path.realpath(repo.root)
    out: List[str] = []
    for given in paths:
        full = os.path.realpath(os.path.join(os.getcwd(), given))
        if full != root and not full.startswith(root + os.sep):
            raise UsageError(f"--path {given!r} is outside the git repository at {root}")
        rel = os.path.relpath(full, root).replace(os.sep, "/")
        rel = "." if rel == "." else rel
        if not repo.touched(rel):
            raise ReleasetagError(f"--path {given!r}: no commit in the history touches {rel}")
        if rel not in out:
            out.append(rel)
    return out


def _repo_name(commit: Dict[str, Any]) -> str:
    repo = commit.get("repository")
    if isinstance(repo, dict):
        return str(repo.get("name") or "")
    return str(repo or "")


def release_commits(
    client: Any, org: str, version: str, quiet: bool = False
) -> List[Dict[str, Any]]:
    """The release's commits on the server; a server that cannot list them is one warning
    (what the caller sends then replaces what other repositories gave the release)."""
    try:
        listed = api.release_commits(client, org, version)
    except ApiError as exc:
        if quiet:
            return []
        warn(
            f"cannot read the commits of release {version!r} ({exc.message}): commits of "
            "other repositories are not kept"
        )
        return []
    return [c for c in listed if isinstance(c, dict)]


def kept_commits(
    client: Any, org: str, version: str, replacing: Sequence[str]
) -> List[Dict[str, Any]]:
    """The release's commits of repositories other than ``replacing``, in the form the Web API
    takes (files are left out: the server keeps the files of a commit it already has)."""
    names = {n.lower() for n in replacing}
    out = []
    for c in release_commits(client, org, version):
        name = _repo_name(c)
        if not name or name.lower() in names or not c.get("id"):
            continue
        found = c.get("author")
        author: Dict[str, Any] = found if isinstance(found, dict) else {}
        item = {"id": c["id"], "repository": name, "message": c.get("message")}
        if author.get("name"):
            item["author_name"] = author["name"]
        if author.get("email"):
            item["author_email"] = author["email"]
        if c.get("dateCreated"):
            item["timestamp"] = c["dateCreated"]
        out.append({k: v for k, v in item.items() if v is not None})
    return out


def kept_refs(
    client: Any, org: str, version: str, replacing: Sequence[str]
) -> List[Dict[str, Any]]:
    """A ref (the newest commit) per repository of the release other than ``replacing``."""
    seen: Dict[str, Dict[str, Any]] = {}
    for c in kept_commits(client, org, version, replacing):
        seen.setdefault(
            c["repository"].lower(),
            {
                "repository": c["repository"],
                "commit": c["id"],
                "previousCommit": None,
            },
        )
    return list(seen.values())


def previous_commit_of(
    client: Any, org: str, previous: Optional[str], name: str, repo: GitRepo
) -> Optional[str]:
    """The newest commit of repository ``name`` in release ``previous`` that the local history
    has (a release with commits of several repositories has its last commit in only one)."""
    if not previous:
        return None
    for c in release_commits(client, org, previous, quiet=True):
        if _repo_name(c).lower() == name.lower() and c.get("id") and repo.has_commit(str(c["id"])):
            return str(c["id"])
    return None
