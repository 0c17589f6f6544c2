"""Git access for the build-time CLI, through GitPython (imported when first needed).

- ``GitRepo.open(path)``: the repository around ``path`` (``VcsError`` when there is none);
- ``head()``, ``resolve(rev)``, ``has_commit(sha)``, ``is_shallow()``, ``deepen_until(sha)``;
- ``commits(...)``: non-merge commits newest first, each with its patch set (A/M/D; a rename is
  a D of the old path plus an A of the new one), read with one ``git log`` call;
- remotes: ``remote_url()``, and ``parse_remote_url`` / ``normalize_remote_url`` /
  ``repo_name_from_url`` that turn https / ssh / scp-style URLs (ports, ``user@``, ``.git``,
  case) into a comparable ``host/owner/repo`` and the ``owner/repo`` name.

The git processes it starts (``git log``, ``git fetch`` and through it ssh and credential
helpers) get the environment without the CLI's own settings and secrets (``child_env``):
``SENTRY_*`` and ``RELEASETAG_*`` variables and any variable named like a token, secret,
password or key, ``GIT_*`` aside.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from releasetag.protocol.errors import InputError

MAX_AUTHOR_EMAIL = 75
MAX_PATH = 510
_SHA_RE = re.compile(r"^[0-9a-fA-F]{4,64}$")
_RECORD = "\x1e"
_LOG_FORMAT = "%x1e%H%x00%an%x00%ae%x00%aI%x00%B%x00"


class VcsError(InputError):
    """A git problem to report as one line (not a repository, unknown commit, ...)."""


@dataclass(frozen=True)
class RemoteUrl:
    """A remote URL taken apart: lowercase ``host`` (no user, no port) and ``path``
    (``owner/repo``, no ``.git``, no slashes around)."""

    host: str
    path: str

    @property
    def normalized(self) -> str:
        return f"{self.host}/{self.path}".lower().strip("/")


_SCP_RE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?!//)(?P<path>.+)$")


def parse_remote_url(url: str) -> Optional[RemoteUrl]:
    """Parse https, ssh, git, scp-style (``git@host:owner/repo.git``) and file URLs/paths."""
    url = (url or "").strip()
    if not url:
        return None
    if "://" in url:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        path = parts.path
    else:
        m = _SCP_RE.match(url)
        if m and not os.path.isabs(url) and not re.match(r"^[A-Za-z]:[\\/]", url):
            host, path = m.group("host").lower(), m.group("path")
        else:
            host, path = "", url
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    path = path.rstrip("/")
    if not path:
        return None
    return RemoteUrl(host, path)


def normalize_remote_url(url: str) -> Optional[str]:
    """``host/owner/repo`` in lowercase, for comparing a local remote with a server repository
    (``www.`` and Azure's ``ssh.`` host prefixes dropped)."""
    parsed = parse_remote_url(url)
    name = repo_name_from_url(url)
    if not parsed or not name:
        return None
    host = parsed.host
    for prefix in ("www.", "ssh.dev.azure.com"):
        if host.startswith(prefix):
            host = "dev.azure.com" if prefix.startswith("ssh.") else host[len(prefix) :]
    return f"{host}/{name}".lower()


def repo_name_from_url(url: str) -> Optional[str]:
    """The repository's ``owner/repo`` name as the server knows it (case kept).

    Azure DevOps forms (``v3/org/project/repo`` over ssh, ``org/project/_git/repo`` over https)
    become ``org/project/repo``; a local path gives its last two folders.
    """
    parsed = parse_remote_url(url)
    if not parsed:
        return None
    segments = [s for s in parsed.path.split("/") if s and s != "_git"]
    if parsed.host.startswith("ssh.dev.azure.com") and segments and segments[0] == "v3":
        segments = segments[1:]
    if not parsed.host:
        segments = segments[-2:]
    return "/".join(segments) or None


@dataclass
class LocalCommit:
    """One commit as the Web API wants it (``to_api``)."""

    id: str
    author_name: str
    author_email: str
    timestamp: str
    message: str
    patch_set: List[Tuple[str, str]] = field(default_factory=list)  # (type, path)

    def to_api(self, repository: str) -> Dict[str, Any]:
        return {
            "id": self.id,
            "repository": repository,
            "message": self.message,
            "author_name": self.author_name,
            "author_email": self.author_email[:MAX_AUTHOR_EMAIL],
            "timestamp": self.timestamp,
            "patch_set": [{"path": p, "type": t} for t, p in self.patch_set if len(p) <= MAX_PATH],
        }


_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.I)


def child_env(environ: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """``environ`` (the process's) without what git and its helpers have no use for: the
    ``SENTRY_*`` / ``RELEASETAG_*`` settings (the auth token among them) and variables
    named like a token, secret, password or key; git's own ``GIT_*`` variables stay."""
    env = dict(os.environ if environ is None else environ)
    return {
        k: v
        for k, v in env.items()
        if k.upper().startswith("GIT_")
        or not (k.upper().startswith(("SENTRY_", "RELEASETAG_")) or _SECRET_NAME.search(k))
    }


@contextmanager
def _git_environ() -> Iterator[None]:
    """``os.environ`` as ``child_env()`` while GitPython starts git (it copies the whole of
    ``os.environ`` into every child, with no way to leave a variable out); restored after.
    The CLI runs git from one thread."""
    dropped = {k: v for k, v in os.environ.items() if k not in child_env()}
    for name in dropped:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(dropped)


def _import_git() -> Any:
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    try:
        with _git_environ():  # importing GitPython runs `git version`
            import git  # noqa: PLC0415 - GitPython only when git is needed
    except Exception as exc:  # pragma: no cover - GitPython missing or broken
        raise VcsError(f"GitPython is not available: {exc}") from None
    return git


def _iso(ts: str) -> str:
    return ts[:-6] + "Z" if ts.endswith("+00:00") else ts


def _parse_log(out: str) -> List[LocalCommit]:
    records: List[str] = []
    for piece in out.split(_RECORD):
        if not piece:
            continue
        if records and not re.match(r"^[0-9a-f]{40,64}\x00", piece):
            records[-1] += _RECORD + piece  # a record separator inside a message
        else:
            records.append(piece)
    commits = []
    for rec in records:
        fields = rec.split("\x00")
        sha, name, email, date, message = fields[:5]
        rest = [f.strip("\n") for f in fields[5:]]
        rest = [f for f in rest if f]
        patch: List[Tuple[str, str]] = []
        i = 0
        while i + 1 < len(rest):
            status, path = rest[i], rest[i + 1]
            kind = status[:1]
            if kind in ("R", "C"):  # only without --no-renames; keep the rule anyway
                if i + 2 < len(rest):
                    if kind == "R":
                        patch.append(("D", path))
                    patch.append(("A", rest[i + 2]))
                i += 3
                continue
            patch.append((kind if kind in ("A", "D") else "M", path))
            i += 2
        commits.append(LocalCommit(sha, name, email, _iso(date), message, patch))
    return commits


class GitRepo:
    """A git checkout, opened with GitPython."""

    def __init__(self, repo: Any) -> None:
        self.repo = repo
        self.git = repo.git

    @classmethod
    def open(cls, path: Optional[str] = None) -> "GitRepo":
        git = _import_git()
        where = os.path.abspath(path or os.getcwd())
        try:
            repo = git.Repo(where, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise VcsError(
                f"not a git repository: {where} (run this inside a git checkout, "
                "or use --commit REPO@SHA)"
            ) from None
        if repo.bare:
            raise VcsError(f"{where} is a bare git repository: run this inside a checkout")
        return cls(repo)

    def close(self) -> None:
        self.repo.close()

    @property
    def root(self) -> str:
        return str(self.repo.working_tree_dir)

    def _run(self, *args: str) -> str:
        git = _import_git()
        try:
            with _git_environ():
                return self.git.execute(["git", *args], strip_newline_in_stdout=False)
        except git.GitCommandNotFound:
            raise VcsError("the git program is not installed (needed to read history)") from None
        except git.GitCommandError as exc:
            err = " ".join(str(exc.stderr or "").replace("stderr:", "").split()).strip("' ")
            raise VcsError(f"git {args[0]} failed: {err or exc.status}") from None

    def resolve(self, rev: str) -> Optional[str]:
        """The full SHA of ``rev`` (a commit), or None when this repository does not have it."""
        try:
            out = self._run(
                "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
            )
        except VcsError:
            return None
        out = out.strip()
        return out or None

    def head(self) -> str:
        sha = self.resolve("HEAD")
        if not sha:
            raise VcsError(f"the repository at {self.root} has no commits yet")
        return sha

    def has_commit(self, sha: str) -> bool:
        return self.resolve(sha) is not None

    def is_shallow(self) -> bool:
        try:
            return self._run("rev-parse", "--is-shallow-repository").strip() == "true"
        except VcsError:
            return os.path.exists(os.path.join(str(self.repo.git_dir), "shallow"))

    def remotes(self) -> Dict[str, str]:
        """Remote name -> fetch URL."""
        out: Dict[str, str] = {}
        for remote in self.repo.remotes:
            try:
                with _git_environ():  # `git remote get-url`
                    urls = list(remote.urls)
            except Exception:
                urls = []
            if urls:
                out[remote.name] = urls[0]
        return out

    def remote(self, name: Optional[str] = None) -> Optional[Tuple[str, str]]:
        """``(name, url)`` of the named remote, else ``origin``, else the first; None if none."""
        remotes = self.remotes()
        if name:
            if name not in remotes:
                known = ", ".join(sorted(remotes)) or "none"
                raise VcsError(f"no git remote named {name!r} (remotes: {known})")
            return name, remotes[name]
        if "origin" in remotes:
            return "origin", remotes["origin"]
        for key in sorted(remotes):
            return key, remotes[key]
        return None

    def touched(self, path: str) -> bool:
        """Whether any commit reachable from HEAD touches ``path`` (relative to the root)."""
        out = self._run("log", "-1", "--format=%H", "HEAD", "--", f":(literal){path}")
        return bool(out.strip())

    def commits(
        self,
        head: str = "HEAD",
        since: Optional[str] = None,
        max_count: Optional[int] = None,
        paths: Sequence[str] = (),
    ) -> List[LocalCommit]:
        """Non-merge commits reachable from ``head`` (and not from ``since``), newest first;
        with ``paths`` (relative to the root) only those touching them, with their files there."""
        args = [
            "-c",
            "core.quotepath=off",
            "log",
            "--no-merges",
            "-z",
            "--name-status",
            "--no-renames",
            "--no-color",
            "--no-ext-diff",
            f"--format={_LOG_FORMAT}",
        ]
        if max_count is not None:
            args.append(f"--max-count={max_count}")
        args.append(f"{since}..{head}" if since else head)
        args.append("--")
        args.extend(f":(literal){p}" for p in paths)
        return _parse_log(self._run(*args))

    def deepen_until(
        self, sha: str, remote: Optional[str] = None, step: int = 100, rounds: int = 8
    ) -> bool:
        """Fetch more history of a shallow clone until ``sha`` is present; True when it is."""
        remote_name = remote or (self.remote() or (None, None))[0]
        if not remote_name:
            raise VcsError("cannot deepen the clone: it has no git remote")
        for i in range(rounds):
            if self.has_commit(sha) or not self.is_shallow():
                break
            self._run("fetch", "--quiet", f"--deepen={step * (2**i)}", remote_name)
        if not self.has_commit(sha) and self.is_shallow():
            self._run("fetch", "--quiet", "--unshallow", remote_name)
        return self.has_commit(sha)
