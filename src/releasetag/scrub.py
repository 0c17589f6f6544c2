"""Scrubbing of secrets and PII: one default denylist, applied wherever data enters an event."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, FrozenSet, Iterable, Optional

    from .types import Event

FILTERED = "[Filtered]"

# A key is sensitive when, lower-cased with '-' turned into '_', it contains one of these.
DEFAULT_DENYLIST: FrozenSet[str] = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "auth",
        "cookie",
        "session",
        "csrf",
        "xsrf",
        "private_key",
        "privatekey",
        "credential",
        "access_key",
        "sentry_dsn",
        "x_forwarded_for",
        "x_real_ip",
        "remote_addr",
    }
)

# Request headers blanked unless send_default_pii (whole header, whatever its value).
PII_HEADERS: FrozenSet[str] = frozenset(
    {
        "authorization",
        "cookie",
        "set-cookie",
        "x-forwarded-for",
        "x-real-ip",
        "forwarded",
        "proxy-authorization",
        "x-api-key",
        "x-csrftoken",
        "x-xsrf-token",
        "x-sentry-auth",
    }
)


class Scrubber:
    """Replaces values under sensitive keys with ``[Filtered]``, recursively, in place."""

    def __init__(self, denylist: Iterable[str] = DEFAULT_DENYLIST, max_depth: int = 10) -> None:
        self.denylist = tuple(sorted(set(denylist)))
        self.max_depth = max_depth
        self._cache: Dict[str, bool] = {}

    def is_sensitive(self, key: Any) -> bool:
        if not isinstance(key, str):
            return False
        hit = self._cache.get(key)
        if hit is None:
            norm = key.lower().replace("-", "_")
            hit = any(word in norm for word in self.denylist)
            if len(self._cache) < 4096:
                self._cache[key] = hit
        return hit

    def scrub(self, data: Any, depth: int = 0) -> Any:
        """Scrub mappings and lists inside ``data`` (in place); returns ``data``."""
        if depth > self.max_depth:
            return data
        if isinstance(data, dict):
            for key in list(data):
                if self.is_sensitive(key):
                    if data[key] is not None:
                        data[key] = FILTERED
                else:
                    value = data[key]
                    if isinstance(value, (dict, list)):
                        self.scrub(value, depth + 1)
        elif isinstance(data, list):
            for value in data:
                if isinstance(value, (dict, list)):
                    self.scrub(value, depth + 1)
        return data

    def scrub_event(self, event: Event) -> Dict[str, Any]:
        """Scrub every place user data enters an event."""
        for key in ("extra", "contexts"):
            if isinstance(event.get(key), dict):
                self.scrub(event[key])
        user = event.get("user")
        if isinstance(user, dict):
            user.pop("ip_address", None)
            self.scrub(user)
        request = event.get("request")
        if isinstance(request, dict):
            scrub_request(request, self)
        crumbs = (event.get("breadcrumbs") or {}).get("values")
        if isinstance(crumbs, list):
            for crumb in crumbs:
                if isinstance(crumb, dict) and isinstance(crumb.get("data"), dict):
                    self.scrub(crumb["data"])
        for exc in (event.get("exception") or {}).get("values") or ():
            for frame in (exc.get("stacktrace") or {}).get("frames") or ():
                if isinstance(frame.get("vars"), dict):
                    self.scrub(frame["vars"])
        return event


def scrub_request(request: Dict[str, Any], scrubber: Optional[Scrubber] = None) -> None:
    """Blank PII headers, cookies and sensitive data fields of an event's ``request``."""
    scrubber = scrubber or DEFAULT_SCRUBBER
    headers = request.get("headers")
    if isinstance(headers, dict):
        for name in list(headers):
            if name.lower() in PII_HEADERS or scrubber.is_sensitive(name):
                headers[name] = FILTERED
    if request.get("cookies"):
        request["cookies"] = FILTERED
    if isinstance(request.get("env"), dict):
        request["env"].pop("REMOTE_ADDR", None)
    for key in ("data", "query_string"):
        if isinstance(request.get(key), (dict, list)):
            scrubber.scrub(request[key])


DEFAULT_SCRUBBER = Scrubber()
