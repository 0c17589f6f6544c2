"""Release and environment detection: the one source of truth for runtime and CLI.

Order for the release (first answer wins):

1. the explicit argument;
2. ``RELEASETAG_RELEASE``, then ``SENTRY_RELEASE``;
3. OpenTelemetry's resource: ``service.version`` from ``OTEL_RESOURCE_ATTRIBUTES``, as
   ``NAME@VERSION`` when ``OTEL_SERVICE_NAME`` (or the ``service.name`` attribute) is set;
4. the release file stamped at build time (``releasetag propose-version --stamp FILE``):
   ``$RELEASETAG_RELEASE_FILE`` or ``.releasetag-release`` in the working directory;
5. CI / PaaS variables (``CI_VARIABLES``, plus the pull-request head SHA of GitHub Actions);
6. the HEAD commit of the git repository around the working directory, read with GitPython's
   reference resolution (no git binary needed), imported only at that moment.

Nothing here raises: a failing source is skipped with a debug log line.
"""

from __future__ import annotations

import os

from releasetag.protocol.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional

RELEASE_FILE_NAME = ".releasetag-release"
RELEASE_FILE_ENV = "RELEASETAG_RELEASE_FILE"
RELEASE_ENV_VARS = ("RELEASETAG_RELEASE", "SENTRY_RELEASE")
ENVIRONMENT_ENV_VARS = ("RELEASETAG_ENVIRONMENT", "SENTRY_ENVIRONMENT")
DEFAULT_ENVIRONMENT = "production"
MAX_RELEASE_LENGTH = 200
MAX_DIST_LENGTH = 64
OTEL_ATTRIBUTES_ENV = "OTEL_RESOURCE_ATTRIBUTES"
OTEL_SERVICE_NAME_ENV = "OTEL_SERVICE_NAME"
OTEL_ENVIRONMENT_KEYS = ("deployment.environment.name", "deployment.environment")

# CI and hosting platforms that expose the commit (or a deployment id) being built.
CI_VARIABLES = (
    "SOURCE_VERSION",
    "HEROKU_BUILD_COMMIT",
    "HEROKU_SLUG_COMMIT",
    "CODEBUILD_RESOLVED_SOURCE_VERSION",
    "CIRCLE_SHA1",
    "CF_PAGES_COMMIT_SHA",
    "GAE_DEPLOYMENT_ID",
    "K_REVISION",
    "GITHUB_SHA",
    "CI_COMMIT_SHA",
    "BITBUCKET_COMMIT",
    "TRAVIS_COMMIT",
    "BUILDKITE_COMMIT",
    "DRONE_COMMIT_SHA",
    "VERCEL_GIT_COMMIT_SHA",
    "RENDER_GIT_COMMIT",
    "RAILWAY_GIT_COMMIT_SHA",
)


class Detected:
    """A detected release and the source that named it (for ``propose-version``)."""

    __slots__ = ("release", "source")

    def __init__(self, release: str, source: str) -> None:
        self.release = release
        self.source = source

    def __repr__(self) -> str:
        return f"Detected(release={self.release!r}, source={self.source!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Detected)
            and other.release == self.release
            and other.source == self.source
        )


# Characters a release name must not hold (besides '/' and '\\'): the C0 controls, DEL,
# the C1 controls, the bidirectional embeddings, overrides, isolates and marks, and the line
# and paragraph separators. Each either acts on a terminal (ESC, CSI, OSC, BEL, CR) or makes
# a name read as another one; the CLI prints release names that anyone holding a DSN key can
# create by sending an event.
CONTROL_CHARACTERS = (
    "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
    + "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    + "\u2028\u2029"
)


def first_control(text: str) -> Optional[str]:
    """The first character of ``text`` in ``CONTROL_CHARACTERS``, or None."""
    if text.isprintable():  # False for each of them: the usual name is checked in one call
        return None
    return next((ch for ch in text if ch in CONTROL_CHARACTERS), None)


def release_name_error(name: object) -> Optional[str]:
    """Return why ``name`` is not a valid release name, or None when it is valid."""
    if not isinstance(name, str):
        return "the release must be a string"
    if not name:
        return "the release must not be empty"
    if name in (".", ".."):
        return "the release must not be '.' or '..'"
    if name != name.strip():
        return "the release must not start or end with whitespace"
    if "/" in name:
        return "the release must not contain '/'"
    if "\\" in name:
        return "the release must not contain a backslash"
    if name.lower() == "latest":
        return "'latest' is reserved (the server reads it as the newest release)"
    for ch, label in (
        ("\n", "newline"),
        ("\r", "carriage return"),
        ("\t", "tab"),
        ("\x0b", "vertical tab"),
        ("\x0c", "form feed"),
    ):
        if ch in name:
            return f"the release must not contain a {label}"
    bad = first_control(name)
    if bad is not None:
        return f"the release must not contain control characters (found U+{ord(bad):04X})"
    if len(name) > MAX_RELEASE_LENGTH // 4 and len(name.encode("utf-8")) > MAX_RELEASE_LENGTH:
        size = len(name.encode("utf-8"))  # Sentry counts bytes: 200 of them, in UTF-8
        return f"the release must be at most {MAX_RELEASE_LENGTH} bytes in UTF-8 (got {size})"
    return None


def dist_error(dist: object) -> Optional[str]:
    """Return why ``dist`` is not a valid distribution name, or None when it is valid."""
    if not isinstance(dist, str):
        return "the dist must be a string"
    if not dist:
        return "the dist must not be empty"
    if dist != dist.strip():
        return "the dist must not start or end with whitespace"
    bad = first_control(dist)
    if bad is not None:
        return f"the dist must not contain control characters (found U+{ord(bad):04X})"
    if len(dist) > MAX_DIST_LENGTH:
        return f"the dist must be at most {MAX_DIST_LENGTH} characters (got {len(dist)})"
    return None


def validate_release(name: object) -> str:
    """Return ``name`` if it is a valid release name, else raise ConfigurationError (a
    ValueError) saying which rule."""
    err = release_name_error(name)
    if err:
        from .errors import ConfigurationError

        raise ConfigurationError(f"invalid release {name!r}: {err}")
    return name  # type: ignore[return-value]


def _accept(value: Optional[str], source: str) -> Optional[Detected]:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    err = release_name_error(value)
    if err:
        get_logger("releasetag.protocol.release").debug(
            "ignoring release %r from %s: %s", value, source, err
        )
        return None
    return Detected(value, source)


def otel_resource_attributes(env: Mapping[str, str]) -> Dict[str, str]:
    """``OTEL_RESOURCE_ATTRIBUTES`` as a dict: comma-separated ``key=value`` pairs with
    percent-encoded values (OpenTelemetry's resource SDK spec); malformed pairs are skipped."""
    text = env.get(OTEL_ATTRIBUTES_ENV) or ""
    if not text.strip():
        return {}
    from urllib.parse import unquote

    out: Dict[str, str] = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if sep and key:
            out[key] = unquote(value.strip())
    return out


def _otel_release(env: Mapping[str, str]) -> Optional[str]:
    attributes = otel_resource_attributes(env)
    version = (attributes.get("service.version") or "").strip()
    if not version:
        return None
    name = (env.get(OTEL_SERVICE_NAME_ENV) or attributes.get("service.name") or "").strip()
    return f"{name}@{version}" if name else version


def read_release_file(path: str) -> Optional[str]:
    """Read a stamped release file: its first non-empty line, or a JSON {"release": ...}."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(4096)
    except (OSError, UnicodeDecodeError) as exc:
        get_logger("releasetag.protocol.release").debug(
            "cannot read release file %s: %s", path, exc
        )
        return None
    text = text.strip()
    if text.startswith("{"):
        import json

        try:
            value = json.loads(text).get("release")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return None


def write_release_file(path: str, release: str) -> None:
    """Stamp ``release`` into ``path`` (atomically) for the runtime to read."""
    validate_release(release)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(release + "\n")
    os.replace(tmp, path)


def _release_file_candidates(env: Mapping[str, str], cwd: str) -> List[str]:
    paths = []
    if env.get(RELEASE_FILE_ENV):
        paths.append(env[RELEASE_FILE_ENV])
    paths.append(os.path.join(cwd, RELEASE_FILE_NAME))
    return paths


def _github_pr_head_sha(env: Mapping[str, str]) -> Optional[str]:
    """The pull request's head SHA (GITHUB_SHA is a merge commit on pull_request events)."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path or not env.get("GITHUB_SHA"):
        return None
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            payload = json.load(fh)
        sha = payload["pull_request"]["head"]["sha"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sha if isinstance(sha, str) else None


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
        get_logger("releasetag.protocol.release").debug("GitPython unavailable: %s", exc)
        return None
    try:
        repo = git.Repo(path or os.getcwd(), search_parent_directories=True)
        try:
            sha = SymbolicReference.dereference_recursive(repo, "HEAD")
        finally:
            repo.close()
    except Exception as exc:
        get_logger("releasetag.protocol.release").debug(
            "no git HEAD found from %s: %s", path or os.getcwd(), exc
        )
        return None
    return sha if isinstance(sha, str) and len(sha) in (40, 64) else None


def detect_release_source(
    release: Optional[str] = None,
    *,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    use_git: bool = True,
) -> Optional[Detected]:
    """Detect the release and say where it came from; None when nothing names one."""
    env = os.environ if env is None else env
    cwd = cwd or os.getcwd()
    found = _accept(release, "argument")
    if found:
        return found
    for name in RELEASE_ENV_VARS:
        found = _accept(env.get(name), name)
        if found:
            return found
    found = _accept(_otel_release(env), f"{OTEL_ATTRIBUTES_ENV} service.version")
    if found:
        return found
    for path in _release_file_candidates(env, cwd):
        if os.path.isfile(path):
            found = _accept(read_release_file(path), f"release file {path}")
            if found:
                return found
    found = _accept(_github_pr_head_sha(env), "GITHUB_EVENT_PATH pull_request.head.sha")
    if found:
        return found
    for name in CI_VARIABLES:
        found = _accept(env.get(name), name)
        if found:
            return found
    if use_git:
        return _accept(git_head_sha(cwd), "git HEAD")
    return None


def detect_release(release: Optional[str] = None) -> Optional[str]:
    """The release this process reports: argument, env vars, release file, CI vars, git HEAD."""
    found = detect_release_source(release)
    return found.release if found else None


def detect_environment(
    environment: Optional[str] = None, env: Optional[Mapping[str, str]] = None
) -> str:
    """argument > RELEASETAG_ENVIRONMENT > SENTRY_ENVIRONMENT > OpenTelemetry's
    ``deployment.environment.name`` (or the older ``deployment.environment``) resource
    attribute > "production"."""
    if environment:
        return environment
    env = os.environ if env is None else env
    for name in ENVIRONMENT_ENV_VARS:
        if env.get(name):
            return env[name]
    if env.get(OTEL_ATTRIBUTES_ENV):
        attributes = otel_resource_attributes(env)
        for key in OTEL_ENVIRONMENT_KEYS:
            value = (attributes.get(key) or "").strip()
            if value:
                return value
    return DEFAULT_ENVIRONMENT
