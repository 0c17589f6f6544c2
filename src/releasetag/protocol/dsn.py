"""Parse a DSN into the envelope URL and auth header that the transport and CLI use."""

from __future__ import annotations

from urllib.parse import urlsplit

from releasetag._version import SDK_NAME, __version__
from releasetag.protocol.errors import ConfigurationError
from releasetag.protocol.records import FrozenRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_NOT_IN_HOST = frozenset("\\")  # a backslash: urlsplit leaves it in the host


class Dsn(FrozenRecord):
    """A parsed DSN: ``{scheme}://{public_key}[:{secret}]@{host}[:{port}]/{prefix/}{project_id}``."""

    __slots__ = ("scheme", "public_key", "secret_key", "host", "port", "path_prefix", "project_id")
    scheme: str
    public_key: str
    secret_key: Optional[str]
    host: str
    port: Optional[int]
    path_prefix: str
    project_id: str

    def __init__(
        self,
        scheme: str,
        public_key: str,
        secret_key: Optional[str],
        host: str,
        port: Optional[int],
        path_prefix: str,
        project_id: str,
    ) -> None:
        self._init(
            scheme=scheme,
            public_key=public_key,
            secret_key=secret_key,
            host=host,
            port=port,
            path_prefix=path_prefix,
            project_id=project_id,
        )

    @classmethod
    def parse(cls, value: str) -> "Dsn":
        """Parse ``value``; raise ConfigurationError (a ValueError) naming what is wrong,
        never echoing a secret."""
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError("invalid DSN: it is empty")
        try:
            parts = urlsplit(value.strip())
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"invalid DSN: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise ConfigurationError(
                f"invalid DSN: the scheme must be http or https, not {parts.scheme or 'missing'!r}"
            )
        if not parts.hostname:
            raise ConfigurationError("invalid DSN: it has no host")
        if any(c.isspace() or not c.isprintable() or c in _NOT_IN_HOST for c in parts.hostname):
            raise ConfigurationError(
                "invalid DSN: the host contains a space, a backslash or a control character"
            )
        if port == 0:
            raise ConfigurationError("invalid DSN: the port must be between 1 and 65535, not 0")
        if not parts.username:
            raise ConfigurationError(
                "invalid DSN: it has no public key (expected https://KEY@host/PROJECT_ID)"
            )
        path = parts.path.rstrip("/")
        prefix, _, project_id = path.rpartition("/")
        if not project_id:
            raise ConfigurationError(
                "invalid DSN: it has no project id (expected https://KEY@host/PROJECT_ID)"
            )
        if not (project_id.isascii() and project_id.isdigit()):
            raise ConfigurationError(
                f"invalid DSN: the project id must be a number (digits 0-9), not {project_id!r}"
            )
        host = parts.hostname
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        return cls(
            parts.scheme, parts.username, parts.password, host, port, prefix.strip("/"), project_id
        )

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    @property
    def base_url(self) -> str:
        prefix = f"/{self.path_prefix}" if self.path_prefix else ""
        return f"{self.scheme}://{self.netloc}{prefix}"

    @property
    def envelope_url(self) -> str:
        return f"{self.base_url}/api/{self.project_id}/envelope/"

    @property
    def store_url(self) -> str:
        return f"{self.base_url}/api/{self.project_id}/store/"

    def auth_header(self, client: str = f"{SDK_NAME}/{__version__}") -> str:
        """The ``X-Sentry-Auth`` header value."""
        value = f"Sentry sentry_key={self.public_key}, sentry_version=7, sentry_client={client}"
        if self.secret_key:
            value += f", sentry_secret={self.secret_key}"
        return value

    def __str__(self) -> str:
        secret = f":{self.secret_key}" if self.secret_key else ""
        prefix = f"{self.path_prefix}/" if self.path_prefix else ""
        return f"{self.scheme}://{self.public_key}{secret}@{self.netloc}/{prefix}{self.project_id}"

    def __repr__(self) -> str:  # never show the secret
        return f"Dsn({self.scheme}://{self.public_key}@{self.netloc}/{self.project_id})"


def parse_auth_header(value: str) -> dict:
    """Parse ``Sentry sentry_key=..., sentry_version=7`` into a dict (used by the collector)."""
    value = value.strip()
    if value.lower().startswith("sentry "):
        value = value[7:]
    out = {}
    for part in value.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            out[key.strip()] = val.strip()
    return out
