"""Build-time configuration: the one place the CLI's server URL, token, org and projects come from.

Precedence, first answer wins for each setting:

1. command-line flags (``--url``, ``--auth-token``, ``--org``, ``--project``/``-p``);
2. ``RELEASETAG_URL``, ``RELEASETAG_AUTH_TOKEN``, ``RELEASETAG_ORG``, ``RELEASETAG_PROJECT``;
3. ``SENTRY_URL``, ``SENTRY_AUTH_TOKEN``, ``SENTRY_ORG``, ``SENTRY_PROJECT``;
4. ini files ``.releasetagrc`` then ``.sentryclirc`` (``[auth] token``, ``[defaults] url / org /
   project``): the nearest one in the working folder or a parent first, then the home folder;
5. the default URL ``https://sentry.io/``.

An organization token (``sntrys_<base64 json>_<secret>``) carries the ``url`` and ``org`` it is
valid for: those are used, as sentry-cli does, and a different configured value is reported in
``Config.warnings``.

The token never appears in ``repr``/``str`` or log lines.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from releasetag.protocol.errors import ConfigurationError
from releasetag.protocol.records import FrozenRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    import configparser
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

DEFAULT_URL = "https://sentry.io/"
RC_FILE_NAMES = (".releasetagrc", ".sentryclirc")
ORG_TOKEN_PREFIX = "sntrys_"

# setting -> (env var names in order, (ini section, ini key))
_SETTINGS: Dict[str, Tuple[Tuple[str, ...], Tuple[str, str]]] = {
    "url": (("RELEASETAG_URL", "SENTRY_URL"), ("defaults", "url")),
    "auth_token": (("RELEASETAG_AUTH_TOKEN", "SENTRY_AUTH_TOKEN"), ("auth", "token")),
    "org": (("RELEASETAG_ORG", "SENTRY_ORG"), ("defaults", "org")),
    "project": (("RELEASETAG_PROJECT", "SENTRY_PROJECT"), ("defaults", "project")),
}

TOKEN_HINT = "set RELEASETAG_AUTH_TOKEN (or SENTRY_AUTH_TOKEN) or pass --auth-token"


#: headers sent with every Web API request: the CLI's global ``--header KEY:VALUE`` (repeatable)
EXTRA_HEADERS: Dict[str, str] = {}


class ConfigError(ConfigurationError):
    """A configuration value is missing or malformed; the message says what to set."""


class OrgToken(FrozenRecord):
    """What an organization auth token carries besides its secret."""

    __slots__ = ("url", "org")
    url: Optional[str]
    org: Optional[str]

    def __init__(self, url: Optional[str], org: Optional[str]) -> None:
        self._init(url=url, org=org)


def parse_org_token(token: str) -> Optional[OrgToken]:
    """Decode ``sntrys_<base64 json>_<secret>``; None for other token kinds or garbage."""
    if not token.startswith(ORG_TOKEN_PREFIX):
        return None
    body = token[len(ORG_TOKEN_PREFIX) :]
    payload, sep, _secret = body.rpartition("_")
    if not sep or not payload:
        return None
    try:
        raw = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    url = data.get("url") or data.get("region_url")
    org = data.get("org")
    return OrgToken(
        url if isinstance(url, str) and url else None, org if isinstance(org, str) and org else None
    )


def find_rc_files(cwd: Optional[str] = None, home: Optional[str] = None) -> List[str]:
    """The ini files that apply, most specific first.

    For each name in ``RC_FILE_NAMES``: the nearest one in ``cwd`` or a parent folder; then the
    same names in the home folder. A file is listed once even when home is a parent of cwd.
    """
    cwd = os.path.abspath(cwd or os.getcwd())
    home = os.path.abspath(home if home is not None else os.path.expanduser("~"))
    found: List[str] = []
    for name in RC_FILE_NAMES:
        folder = cwd
        while True:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                found.append(path)
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    for name in RC_FILE_NAMES:
        path = os.path.join(home, name)
        if os.path.isfile(path) and path not in found:
            found.append(path)
    return found


def _read_ini(path: str) -> configparser.ConfigParser:
    import configparser  # only when an rc file exists

    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    return parser


def _split_projects(value: str) -> List[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


class Config(FrozenRecord):
    """Resolved build-time settings plus where each came from (for error messages)."""

    __slots__ = ("url", "auth_token", "org", "projects", "sources", "warnings")
    url: str
    auth_token: Optional[str]
    org: Optional[str]
    projects: Tuple[str, ...]
    sources: Mapping[str, str]
    warnings: Tuple[str, ...]

    def __init__(
        self,
        url: str = DEFAULT_URL,
        auth_token: Optional[str] = None,
        org: Optional[str] = None,
        projects: Tuple[str, ...] = (),
        sources: Optional[Mapping[str, str]] = None,
        warnings: Tuple[str, ...] = (),
    ) -> None:
        self._init(
            url=url,
            auth_token=auth_token,
            org=org,
            projects=tuple(projects),
            sources=dict(sources or {}),
            warnings=tuple(warnings),
        )

    def _values(self) -> Tuple[Any, ...]:  # sources and warnings do not count for equality
        return (self.url, self.auth_token, self.org, self.projects)

    def __repr__(self) -> str:
        token = "set" if self.auth_token else "unset"
        return (
            f"Config(url={_shown(self.url)!r}, auth_token=<{token}>, org={self.org!r}, "
            f"projects={list(self.projects)!r})"
        )

    __str__ = __repr__

    @property
    def project(self) -> Optional[str]:
        """The first project, or None."""
        return self.projects[0] if self.projects else None

    @property
    def api_url(self) -> str:
        """``{url}/api/0`` without a trailing slash."""
        return self.url.rstrip("/") + "/api/0"

    def source_of(self, setting: str) -> str:
        """Where ``setting`` came from, e.g. ``SENTRY_AUTH_TOKEN`` or ``--org``."""
        return self.sources.get(setting, "default")

    def require_token(self) -> str:
        if not self.auth_token:
            raise ConfigError(
                f"no auth token: {TOKEN_HINT}, or add [auth] token= to .releasetagrc / .sentryclirc"
            )
        if not token_is_printable(self.auth_token):
            # said without the value: the token must never reach a log
            raise ConfigError(
                f"the auth token from {self.source_of('auth_token')} holds a space, a newline "
                "or another character a token cannot have: set it again without them"
            )
        return self.auth_token

    def require_org(self) -> str:
        if not self.org:
            raise ConfigError(
                "no organization: pass --org/-o or set RELEASETAG_ORG "
                "(or SENTRY_ORG), or add [defaults] org= to .releasetagrc"
            )
        return self.org

    def require_project(self) -> str:
        if not self.projects:
            raise ConfigError(
                "no project: pass --project/-p or set RELEASETAG_PROJECT "
                "(or SENTRY_PROJECT), or add [defaults] project= to .releasetagrc"
            )
        return self.projects[0]


def _shown(url: str) -> str:
    """``url`` as it may be printed: its ``user:password@`` as ``***@``."""
    from releasetag.net.netenv import display_url

    if "://" in url:
        return display_url(url)
    head, sep, rest = url.partition("/")
    return f"***@{head.rpartition('@')[2]}{sep}{rest}" if "@" in head else url


def _normalise_url(url: str, source: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"invalid server URL {_shown(url)!r} from {source}: "
            "it must start with http:// or https://"
        )
    return url.rstrip("/") + "/"


def _apply_org_token(token: str, values: Dict[str, str], sources: Dict[str, str]) -> List[str]:
    """Take the server and organization of an organization token into ``values``; the
    warnings for configured values it overrides."""
    warnings: List[str] = []
    org_token = parse_org_token(token)
    if org_token:
        # An organization token works only for its own server and organization, so its
        # values win (as in sentry-cli); a different configured value gets a warning.
        for name, embedded in (("url", org_token.url), ("org", org_token.org)):
            if not embedded:
                continue
            current = values.get(name)
            same = current is not None and (
                current.rstrip("/") == embedded.rstrip("/")
                if name == "url"
                else current == embedded
            )
            if current is not None and not same:
                warnings.append(
                    f"using {name} {embedded!r} from the organization token "
                    f"instead of {_shown(current) if name == 'url' else current!r} "
                    f"from {sources[name]}"
                )
            if not same:
                values[name], sources[name] = embedded, "the organization token"
    return warnings


def load_config(
    *,
    url: Optional[str] = None,
    auth_token: Optional[str] = None,
    org: Optional[str] = None,
    projects: Optional[Sequence[str]] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    home: Optional[str] = None,
) -> Config:
    """Resolve the configuration (flags given as keyword arguments; see the module docstring)."""
    env = os.environ if env is None else env
    values: Dict[str, str] = {}
    sources: Dict[str, str] = {}
    flags = {
        "url": url,
        "auth_token": auth_token,
        "org": org,
        "project": ",".join(projects) if projects else None,
    }
    flag_names = {
        "url": "--url",
        "auth_token": "--auth-token",
        "org": "--org",
        "project": "--project",
    }
    for name, value in flags.items():
        if value:
            values[name], sources[name] = value, flag_names[name]
    for name, (env_names, _ini) in _SETTINGS.items():
        if name in values:
            continue
        for env_name in env_names:
            if env.get(env_name):
                values[name], sources[name] = env[env_name], env_name
                break
    missing = [n for n in _SETTINGS if n not in values]
    if missing:
        for path in find_rc_files(cwd, home):
            ini = _read_ini(path)
            for name in list(missing):
                section, key = _SETTINGS[name][1]
                value = ini.get(section, key, fallback=None)
                if value and value.strip():
                    values[name], sources[name] = value.strip(), path
                    missing.remove(name)
            if not missing:
                break
    token = values.get("auth_token", "").strip() or None
    warnings = _apply_org_token(token, values, sources) if token else []
    resolved_url = _normalise_url(values["url"], sources["url"]) if "url" in values else DEFAULT_URL
    return Config(
        url=resolved_url,
        auth_token=token,
        org=values.get("org", "").strip() or None,
        projects=tuple(_split_projects(values.get("project", ""))),
        sources=sources,
        warnings=tuple(warnings),
    )


def token_is_printable(token: str) -> bool:
    """True when ``token`` is only printable ASCII without spaces (what an HTTP header and a
    Sentry token can hold)."""
    return bool(token) and all("!" <= ch <= "~" for ch in token)


def redact(text: str, secret: Optional[str]) -> str:
    """``text`` with every occurrence of ``secret`` replaced (server answers can echo it)."""
    if not secret or len(secret) < 4:
        return text
    return text.replace(secret, "[token]")
