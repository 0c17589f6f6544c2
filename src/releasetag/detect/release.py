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
from releasetag.protocol.release import release_name_error, validate_release

from .git import git_head_sha

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional

RELEASE_FILE_NAME = ".releasetag-release"
RELEASE_FILE_ENV = "RELEASETAG_RELEASE_FILE"
RELEASE_ENV_VARS = ("RELEASETAG_RELEASE", "SENTRY_RELEASE")
ENVIRONMENT_ENV_VARS = ("RELEASETAG_ENVIRONMENT", "SENTRY_ENVIRONMENT")
DEFAULT_ENVIRONMENT = "production"
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


def _accept(value: Optional[str], source: str) -> Optional[Detected]:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    err = release_name_error(value)
    if err:
        get_logger("releasetag.detect").debug("ignoring release %r from %s: %s", value, source, err)
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
        get_logger("releasetag.detect").debug("cannot read release file %s: %s", path, exc)
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
