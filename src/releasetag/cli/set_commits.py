"""``releasetag releases set-commits VERSION``: associate commits with a release.

Modes (sentry-cli's flags):

- ``--auto`` (the default): match the local remote's URL against the organization's repositories
  on the server and send a ref (the server then reads the commits from its integration); when
  nothing matches, say what was compared and fall back to ``--local``;
- ``--local``: read commits from the local git history since the previous release's last commit
  (``previous-with-commits``), or the latest ``--initial-depth`` (default 10) commits when there
  is no previous release; merges are left out; ``repository`` is ``owner/repo`` from the remote
  URL (sentry-cli sends the remote's name, e.g. ``origin``, which matches no repository);
- ``--commit REPO[@PREV..]SHA`` (repeatable): explicit refs, REPO checked against the server;
- ``--clear``: remove all commits from the release.

``--path DIR`` (repeatable) limits ``--auto`` and ``--local`` to the commits touching those
paths. A release's commits of other repositories are kept (several repositories append), and
``--auto`` sends local commits when the matched repository has no provider integration that
reads commits on the server (``commit_scope``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from releasetag.build.webapi import releases as api
from releasetag.build.webapi.repos import list_repos
from releasetag.protocol.errors import ReleasetagError, UsageError

from . import commit_scope as scope
from .apiargs import api_command, client_from_args, release_arg
from .output import emit, safe, table, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from releasetag.build.vcs import GitRepo

DEFAULT_INITIAL_DEPTH = 10  # what the Sentry releases documentation states (sentry-cli uses 20)
MAX_SHA = 64
_REV_RE = re.compile(r"^[^\s.][^\s]*$")


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value!r}")
    return n


def add_arguments(p: argparse.ArgumentParser) -> None:
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--auto",
        action="store_true",
        help="match the git remote with the server's repositories (default); "
        "falls back to --local when none matches",
    )
    mode.add_argument(
        "--local", action="store_true", help="send the commits from the local git history"
    )
    mode.add_argument("--clear", action="store_true", help="remove all commits of the release")
    p.add_argument(
        "-c",
        "--commit",
        dest="commits",
        action="append",
        default=[],
        metavar="REPO[@PREV..]SHA",
        help="a commit (or range) of a repository known to the server; repeatable",
    )
    p.add_argument(
        "--initial-depth",
        type=_positive,
        default=DEFAULT_INITIAL_DEPTH,
        metavar="N",
        help=f"commits to send when there is no previous release (default {DEFAULT_INITIAL_DEPTH})",
    )
    p.add_argument(
        "--ignore-missing",
        action="store_true",
        help="when the previous release's commit is not in the local history, use "
        "the latest --initial-depth commits instead of failing",
    )
    p.add_argument(
        "--deepen",
        action="store_true",
        help="in a shallow clone, fetch more history until the previous release's "
        "commit is present",
    )
    p.add_argument(
        "--path",
        dest="paths",
        action="append",
        default=[],
        metavar="DIR",
        help="only commits touching DIR (a folder or file of the repository; repeatable); "
        "with --auto and --local",
    )
    p.add_argument(
        "--remote",
        metavar="NAME",
        help="git remote to read the repository from (default: origin, else the first remote)",
    )


def parse_commit_spec(spec: str) -> Tuple[str, Optional[str], Optional[str]]:
    """``REPO``, ``REPO@SHA`` or ``REPO@PREV..SHA`` -> (repo, previous, sha)."""
    repo, sep, rev = spec.rpartition("@")
    if not sep:
        repo, rev = spec, ""
    repo = repo.strip()
    bad = UsageError(
        f"invalid --commit {spec!r}: expected REPO@SHA or REPO@PREV..SHA "
        f"(SHA at most {MAX_SHA} characters)"
    )
    if not repo:
        raise bad
    if not sep:
        return repo, None, None
    prev, dots, sha = rev.partition("..")
    if not dots:
        prev, sha = "", rev
    for value in [prev, sha] if dots else [sha]:
        if not value or len(value) > MAX_SHA or not _REV_RE.match(value):
            raise bad
    return repo, (prev or None), sha


def match_repository(remote_url: str, repos: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The server repository whose URL is the remote's (normalised); a repository without a URL
    matches by its ``owner/repo`` name."""
    from releasetag.build.vcs import normalize_remote_url, repo_name_from_url

    want = normalize_remote_url(remote_url)
    name = (repo_name_from_url(remote_url) or "").lower()
    if not want:
        return None
    matches = [r for r in repos if r.get("url") and normalize_remote_url(r["url"]) == want]
    if len(matches) > 1:
        names = ", ".join(str(r.get("name")) for r in matches)
        raise ReleasetagError(
            f"the remote URL {remote_url} matches {len(matches)} repositories of the "
            f"organization ({names}): name one with --commit REPO@SHA"
        )
    if matches:
        return matches[0]
    for repo in repos:
        if not repo.get("url") and str(repo.get("name", "")).lower() == name:
            return repo
    return None


def _note(message: str) -> None:
    sys.stderr.write(f"note: {safe(message)}\n")


def _open_git() -> GitRepo:
    from releasetag.build.vcs import GitRepo

    return GitRepo.open(os.getcwd())


@api_command
def cmd_set_commits(args: argparse.Namespace) -> int:
    version = release_arg(args.version)
    if args.commits and (args.auto or args.local or args.clear):
        raise UsageError("--commit cannot be combined with --auto, --local or --clear")
    if args.paths and (args.commits or args.clear):
        raise UsageError("--path applies to --auto and --local, not to --commit or --clear")
    specs = [parse_commit_spec(s) for s in args.commits]
    client = client_from_args(args)
    cfg = client.config
    org = cfg.require_org()
    if cfg.projects:  # create it when missing (as sentry-cli does); 208 when it exists
        api.new_release(client, org, version, cfg.projects)
    if args.clear:
        api.set_refs(client, org, version, [])
        emit(
            args, {"version": version, "mode": "clear"}, f"Cleared the commits of release {version}"
        )
        return 0
    if specs:
        return _set_explicit(args, client, org, version, specs)
    repo = _open_git()
    try:
        if args.local:
            return _set_local(args, client, org, version, repo)
        return _set_auto(args, client, org, version, repo)
    finally:
        repo.close()


def _refs_text(version: str, refs: List[Dict[str, Any]]) -> str:
    rows = [
        (
            r["repository"],
            f"{r['previousCommit']} -> {r['commit']}" if r.get("previousCommit") else r["commit"],
        )
        for r in refs
    ]
    return f"Set commits of release {version}:\n" + table(["Repository", "Revision"], rows)


def _set_explicit(
    args: argparse.Namespace,
    client: Any,
    org: str,
    version: str,
    specs: List[Tuple[str, Optional[str], Optional[str]]],
) -> int:
    known = [r for r in list_repos(client, org) if isinstance(r, dict)]
    by_name = {str(r.get("name", "")).lower(): r for r in known}
    refs: List[Dict[str, Any]] = []
    head: Optional[str] = None
    for repo_name, prev, sha in specs:
        server_repo = by_name.get(repo_name.lower())
        if server_repo is None:
            names = ", ".join(sorted(str(r.get("name")) for r in known)) or "none"
            raise ReleasetagError(
                f"unknown repository {repo_name!r} in --commit: the repositories of "
                f"organization {org!r} are: {names}"
            )
        if sha is None:
            if head is None:
                repo = _open_git()
                try:
                    head = repo.head()
                finally:
                    repo.close()
            sha = head
        refs.append({"repository": server_repo["name"], "commit": sha, "previousCommit": prev})
    refs += scope.kept_refs(client, org, version, [r["repository"] for r in refs])
    api.set_refs(client, org, version, refs)
    emit(args, {"version": version, "mode": "commit", "refs": refs}, _refs_text(version, refs))
    return 0


def _set_auto(args: argparse.Namespace, client: Any, org: str, version: str, repo: GitRepo) -> int:
    from releasetag.build.vcs import normalize_remote_url

    head = repo.head()
    remote = repo.remote(args.remote)
    known = [r for r in list_repos(client, org) if isinstance(r, dict)]
    match = match_repository(remote[1], known) if remote else None
    if match is None:
        listed = "; ".join(f"{r.get('name')} ({r.get('url') or 'no url'})" for r in known) or "none"
        if remote:
            compared = f"remote {remote[0]} {remote[1]} ({normalize_remote_url(remote[1])})"
        else:
            compared = "no git remote"
        warn(
            f"no repository of organization {org!r} matches {compared}; the server has: "
            f"{listed}. Using local commits instead"
        )
        return _set_local(args, client, org, version, repo)
    if args.paths or not scope.reads_commits(match):
        why = (
            "--path limits the commits"
            if args.paths
            else "it has no provider integration that reads commits"
        )
        _note(
            f"repository {match['name']} matches the remote, but {why}: sending the local "
            "commits (messages, authors and files) instead of a ref"
        )
        return _set_local(args, client, org, version, repo, str(match["name"]))
    refs = [{"repository": match["name"], "commit": head, "previousCommit": None}]
    refs += scope.kept_refs(client, org, version, [str(match["name"])])
    api.set_refs(client, org, version, refs)
    emit(args, {"version": version, "mode": "auto", "refs": refs}, _refs_text(version, refs))
    return 0


def _local_name(args: argparse.Namespace, repo: GitRepo) -> str:
    from releasetag.build.vcs import repo_name_from_url

    remote = repo.remote(args.remote)
    name = repo_name_from_url(remote[1]) if remote else None
    if not name:
        name = os.path.basename(repo.root.rstrip(os.sep)) or "repository"
        warn(f"the git repository has no usable remote: sending its commits as repository {name!r}")
    return name


def _since(
    args: argparse.Namespace, client: Any, org: str, version: str, repo: GitRepo, name: str
) -> Optional[str]:
    """The previous release's last commit of this repository, when the history has it."""
    previous = api.previous_with_commits(client, org, version)
    last = previous.get("lastCommit")
    prev_sha = last.get("id") if isinstance(last, dict) else None
    prev_version = previous.get("version")
    depth = args.initial_depth
    if not prev_sha:
        _note(
            f"no earlier release with commits: using the latest {depth} commits (--initial-depth)"
        )
        return None
    if not repo.has_commit(prev_sha) and not repo.is_shallow():
        # its last commit may be another repository's: look for this one's among its commits
        prev_sha = scope.previous_commit_of(client, org, prev_version, name, repo) or prev_sha
    if not repo.has_commit(prev_sha) and args.deepen and repo.is_shallow():
        _note(f"fetching more history to find {prev_sha[:12]}")
        remote = repo.remote(args.remote)
        repo.deepen_until(prev_sha, remote[0] if remote else None)
    if repo.has_commit(prev_sha):
        return str(prev_sha)
    if args.ignore_missing:
        warn(
            f"commit {prev_sha[:12]} of the previous release {prev_version!r} is not in the "
            f"local history: using the latest {depth} commits (--ignore-missing)"
        )
        return None
    if repo.is_shallow():
        raise ReleasetagError(
            f"commit {prev_sha[:12]} of the previous release {prev_version!r} is missing from "
            "this shallow clone: fetch more history (git fetch --unshallow, or "
            "fetch-depth: 0 in actions/checkout) or pass --deepen"
        )
    raise ReleasetagError(
        f"commit {prev_sha[:12]} of the previous release {prev_version!r} is not in this "
        f"repository: pass --ignore-missing to use the latest {depth} commits instead"
    )


def _set_local(
    args: argparse.Namespace,
    client: Any,
    org: str,
    version: str,
    repo: GitRepo,
    name: Optional[str] = None,
) -> int:
    name = name or _local_name(args, repo)
    paths = scope.repo_paths(repo, args.paths) if args.paths else []
    head = repo.head()
    since = _since(args, client, org, version, repo, name)
    depth = None if since else args.initial_depth
    commits = repo.commits(head, since=since, max_count=depth, paths=paths)
    ids = [c.id for c in commits]
    out: Dict[str, Any] = {
        "version": version,
        "mode": "local",
        "repository": name,
        "previousCommit": since,
        "commits": ids,
    }
    if paths:
        out["paths"] = paths
    if not commits:
        emit(
            args,
            out,
            f"No new commits since {since[:12] if since else 'the start'}"
            f"{' touching ' + ', '.join(paths) if paths else ''}: release {version} left unchanged",
        )
        return 0
    kept = scope.kept_commits(client, org, version, [name])
    api.set_commits(client, org, version, [c.to_api(name) for c in commits] + kept)
    since_text = f", since {since[:12]}" if since else ""
    path_text = f" touching {', '.join(paths)}" if paths else ""
    kept_text = ""
    if kept:
        others = sorted({c["repository"] for c in kept})
        kept_text = f" (kept {len(kept)} of {', '.join(others)})"
        out["kept"] = [c["id"] for c in kept]
    emit(
        args,
        out,
        f"Set {len(commits)} commit{'s' if len(commits) != 1 else ''} of "
        f"{name}{path_text} for release {version}{since_text}{kept_text}",
    )
    return 0
