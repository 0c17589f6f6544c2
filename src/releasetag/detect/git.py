"""HEAD's commit of the git repository around a folder: read from the repository's files, then
(for anything unusual) through GitPython's reference resolution. The git binary is never run."""

from __future__ import annotations

import os

from releasetag.protocol.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_HEX = frozenset("0123456789abcdef")


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and set(text) <= _HEX


def read_git_head(path: str) -> Optional[str]:
    """HEAD's commit read straight from the files of the repository around ``path``: a
    ``.git`` folder or ``gitdir:`` file (worktrees, submodules), ``commondir``, loose refs,
    then ``packed-refs``. None when this cannot tell (GitPython is asked then)."""
    folder = os.path.abspath(path)
    while True:
        dot_git = os.path.join(folder, ".git")
        if os.path.exists(dot_git):
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    try:
        if os.path.isfile(dot_git):
            with open(dot_git, encoding="utf-8") as fh:
                line = fh.readline().strip()
            if not line.startswith("gitdir:"):
                return None
            gitdir = os.path.join(folder, line[len("gitdir:") :].strip())
        else:
            gitdir = dot_git
        common = gitdir
        if os.path.isfile(os.path.join(gitdir, "commondir")):
            with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as fh:
                common = os.path.join(gitdir, fh.read().strip())
        with open(os.path.join(gitdir, "HEAD"), encoding="utf-8") as fh:
            head = fh.read().strip()
        for _ in range(5):  # symbolic refs may point at symbolic refs
            if _is_sha(head):
                return head
            if not head.startswith("ref:"):
                return None
            ref = head[4:].strip()
            if ".." in ref.split("/"):
                return None
            for base in (gitdir, common):
                loose = os.path.join(base, *ref.split("/"))
                if os.path.isfile(loose):
                    with open(loose, encoding="utf-8") as fh:
                        head = fh.read().strip()
                    break
            else:
                packed = os.path.join(common, "packed-refs")
                if not os.path.isfile(packed):
                    return None
                with open(packed, encoding="utf-8") as fh:
                    for line in fh:
                        sha, _, name = line.strip().partition(" ")
                        if name == ref and _is_sha(sha):
                            return sha
                return None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def git_head_sha(path: Optional[str] = None) -> Optional[str]:
    """The commit SHA that HEAD resolves to in the repository around ``path``, or None.

    Read from the repository's files first (a few small reads: a command that only needs
    the release does not load GitPython, about 100 ms); anything unusual (``GIT_DIR``,
    a ref format this does not know) goes to GitPython's reference resolution (loose
    refs, packed refs, detached HEAD, worktrees and submodules). The git binary is never
    run and need not be installed.
    """
    if not os.environ.get("GIT_DIR"):
        sha = read_git_head(path or os.getcwd())
        if sha:
            return sha
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    try:
        import git  # noqa: PLC0415 - imported only when nothing else names the release
        from git.refs.symbolic import SymbolicReference
    except Exception as exc:  # pragma: no cover - GitPython missing or broken
        get_logger("releasetag.detect").debug("GitPython unavailable: %s", exc)
        return None
    try:
        repo = git.Repo(path or os.getcwd(), search_parent_directories=True)
        try:
            sha = SymbolicReference.dereference_recursive(repo, "HEAD")
        finally:
            repo.close()
    except Exception as exc:
        get_logger("releasetag.detect").debug(
            "no git HEAD found from %s: %s", path or os.getcwd(), exc
        )
        return None
    return sha if isinstance(sha, str) and len(sha) in (40, 64) else None
