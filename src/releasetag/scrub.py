"""Scrubbing of secrets and PII, applied wherever data enters an event, before it leaves the
process: values under sensitive keys (the denylist), PII request headers, and secrets found
by their value (``secret_patterns``: card numbers, cloud and API keys, bearer and basic
credentials, JWTs, PEM private keys, passwords in URLs and in ``password=`` assignments,
AWS secret keys, Slack webhooks, sensitive query parameters), in values and in mapping keys."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, FrozenSet, Iterable, List, Optional

    from .types import Event

FILTERED = "[Filtered]"
MIN_SECRET = 13  # no secret pattern matches a shorter string (secret_patterns.MIN_LENGTH)

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


_PAIR_PATTERN = r"""^\((b?)(['"])([^'"]{1,100})\2, .*\)$"""
_pair_re: List[Any] = []  # compiled on first use: ``re`` stays out of init()


def _unbytes(name: Any) -> Any:
    """A pair's name as text: str as it is, the repr of bytes (``b'cookie'``) unquoted."""
    if name.__class__ is str and name[:2] in ("b'", 'b"') and name[-1:] == name[1:2]:
        return name[2:-1]
    return name


class Scrubber:
    """Replaces secrets with ``[Filtered]``, recursively, in place.

    ``keys``: filter values under sensitive keys and PII headers (off with
    ``send_default_pii``); ``values``: find secrets by value in every string (``scrub_values``),
    plus ``patterns`` of your own; ``allow``: values that are never filtered.
    """

    def __init__(
        self,
        denylist: Iterable[str] = DEFAULT_DENYLIST,
        max_depth: int = 10,
        *,
        keys: bool = True,
        values: bool = True,
        patterns: Iterable[Any] = (),
        allow: Iterable[str] = (),
    ) -> None:
        self.denylist = tuple(sorted(set(denylist))) if keys else ()
        self.max_depth = max_depth
        self.keys = keys
        self.values = values
        self.allow = frozenset(allow)
        self.patterns: List[Any] = []
        if patterns:
            from .secret_patterns import add_patterns

            self.patterns = add_patterns(patterns)
        self._cache: Dict[str, bool] = {}
        self._redact: Any = None

    def text(self, value: Any) -> Any:
        """``value`` with the secrets found in it filtered (strings only; others as they are)."""
        if not self.values or value.__class__ is not str or len(value) < MIN_SECRET:
            return value
        redact = self._redact
        if redact is None:
            from .secret_patterns import redact

            self._redact = redact
        return redact(value, self.patterns, self.allow)

    def is_sensitive(self, key: Any) -> bool:
        if not self.keys or not isinstance(key, str):
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
        values = self.values
        if isinstance(data, dict):
            keys = list(data)
            if values and any(k.__class__ is str and len(k) >= MIN_SECRET for k in keys):
                keys = self._scrub_keys(data, keys)
            for key in keys:
                value = data[key]
                if self.is_sensitive(key):
                    if value is not None:
                        data[key] = FILTERED
                elif isinstance(value, (dict, list)):
                    self.scrub(value, depth + 1)
                elif values and value.__class__ is str and len(value) >= MIN_SECRET:
                    data[key] = self.text(value)
        elif isinstance(data, list):
            if (
                self.keys
                and len(data) == 2
                and data[1] is not None
                and self.is_sensitive(_unbytes(data[0]))
            ):
                data[1] = FILTERED  # a (name, value) pair: ASGI headers, cookie tuples
                return data
            for i, value in enumerate(data):
                if isinstance(value, (dict, list)):
                    self.scrub(value, depth + 1)
                elif value.__class__ is str and value[:1] == "(" and self.keys:
                    data[i] = self._pair_text(value)
                    if values and data[i] is value and len(value) >= MIN_SECRET:
                        data[i] = self.text(value)
                elif values and value.__class__ is str and len(value) >= MIN_SECRET:
                    data[i] = self.text(value)
        return data

    def _scrub_keys(self, data: Dict[Any, Any], keys: List[Any]) -> List[Any]:
        """Filter secrets in the keys of ``data`` (a card number or a token used as a key),
        in place and in order; keys that filter to the same text are numbered, so no value is
        lost. Returns the keys after."""
        renamed = [self.text(k) if k.__class__ is str else k for k in keys]
        if renamed == keys:
            return keys
        items = [(new, data[old]) for old, new in zip(keys, renamed)]
        data.clear()
        for new, value in items:
            name, n = new, 1
            while name in data:
                n += 1
                name = f"{new} #{n}"
            data[name] = value
        return list(data)

    def _pair_text(self, value: str) -> str:
        """A (name, value) pair cut to a string by the depth limit, with its value filtered
        when the name is sensitive: ``(b'cookie', b'...')`` -> ``(b'cookie', '[Filtered]')``."""
        if not _pair_re:
            import re

            _pair_re.append(re.compile(_PAIR_PATTERN, re.DOTALL))
        match = _pair_re[0].match(value)
        if match is None or not self.is_sensitive(match.group(3)):
            return value
        return f"({match.group(1)}{match.group(2)}{match.group(3)}{match.group(2)}, '{FILTERED}')"

    def scrub_event(self, event: Event) -> Dict[str, Any]:
        """Scrub every place user data enters an event."""
        for key in ("extra", "contexts", "tags"):
            if isinstance(event.get(key), (dict, list)):
                self.scrub(event[key])
        user = event.get("user")
        if isinstance(user, dict):
            if self.keys:
                user.pop("ip_address", None)
            self.scrub(user)
        request = event.get("request")
        if isinstance(request, dict):
            scrub_request(request, self)
        if self.values:
            if isinstance(event.get("message"), str):
                event["message"] = self.text(event["message"])
            for key in ("logentry", "message"):
                entry = event.get(key)
                if isinstance(entry, dict):
                    same = entry.get("formatted") == entry.get("message")
                    self.scrub(entry.get("params"))
                    for field in ("message",) if same else ("message", "formatted"):
                        if field in entry:
                            entry[field] = self.text(entry[field])
                    if same and "formatted" in entry:  # scanned once: the usual case
                        entry["formatted"] = entry["message"]
        crumbs = (event.get("breadcrumbs") or {}).get("values")
        if isinstance(crumbs, list):
            for crumb in crumbs:
                if isinstance(crumb, dict):
                    if isinstance(crumb.get("data"), dict):
                        self.scrub(crumb["data"])
                    if isinstance(crumb.get("message"), str):
                        crumb["message"] = self.text(crumb["message"])
        for exc in (event.get("exception") or {}).get("values") or ():
            if not isinstance(exc, dict):
                continue
            if isinstance(exc.get("value"), str):
                exc["value"] = self.text(exc["value"])
            for frame in (exc.get("stacktrace") or {}).get("frames") or ():
                if isinstance(frame, dict) and isinstance(frame.get("vars"), dict):
                    self.scrub(frame["vars"])
        return event


def scrub_request(request: Dict[str, Any], scrubber: Optional[Scrubber] = None) -> None:
    """Blank PII headers, cookies and sensitive data fields of an event's ``request``."""
    scrubber = scrubber or DEFAULT_SCRUBBER
    headers = request.get("headers")
    if isinstance(headers, dict):
        for name in list(headers):
            if scrubber.keys and (name.lower() in PII_HEADERS or scrubber.is_sensitive(name)):
                headers[name] = FILTERED
            elif isinstance(headers[name], str):
                headers[name] = scrubber.text(headers[name])
    if scrubber.keys and request.get("cookies"):
        request["cookies"] = FILTERED
    env = request.get("env")
    if isinstance(env, dict):
        if scrubber.keys:
            env.pop("REMOTE_ADDR", None)
        if isinstance(env.get("QUERY_STRING"), str):
            env["QUERY_STRING"] = scrub_query(env["QUERY_STRING"], scrubber)
        scrubber.scrub(env)
    for key in ("data", "query_string"):
        if isinstance(request.get(key), (dict, list)):
            scrubber.scrub(request[key])
    if isinstance(request.get("query_string"), str):
        request["query_string"] = scrub_query(request["query_string"], scrubber)
    if isinstance(request.get("url"), str):
        request["url"] = scrubber.text(request["url"])
    if isinstance(request.get("data"), str):
        request["data"] = scrubber.text(request["data"])


def scrub_query(query: str, scrubber: Scrubber) -> str:
    """A query string (without its ``?``) with sensitive parameters' values filtered: by
    their name (the denylist) and by their value (the secret patterns)."""
    if not query:
        return query
    parts = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and scrubber.is_sensitive(name.replace("%5F", "_")):
            pair = f"{name}={FILTERED}"
        parts.append(pair)
    text = "&".join(parts)
    return scrubber.text("?" + text)[1:] if scrubber.values else text


DEFAULT_SCRUBBER = Scrubber()
