"""Who may reach the collector, and under which names.

- On a loopback address (the default, 127.0.0.1) everything is as before: pages are open to
  whoever can reach the port (only this machine), the Web API needs the token.
- Off loopback (``serve --host 0.0.0.0`` or a LAN address) the pages need the token too: an
  ``Authorization: Bearer`` header, or the cookie the ``/login`` form sets. ``--insecure-
  open-pages`` leaves them open, when you mean it; ``--page-token`` asks for the token on
  loopback too (a machine shared with other people).
- Signing in at ``/login/`` starts a page session: a random id (not the token) in a cookie
  named after the port (``releasetag_session_9000``; HttpOnly, SameSite=Strict, Path=/),
  kept in memory for 12 hours, so a restart signs everybody out. The id opens the pages
  only: the Web API still wants the token.
- Failed sign-ins and wrong API tokens are counted per client address: the sixth within a
  minute (``RELEASETAG_SERVE_LOGIN_WINDOW`` seconds) and every attempt after it, right or
  wrong, is answered 429 until the oldest failure is a minute old.
- Every request must name the collector by an address or name it was told about (its bound
  address, the address the connection arrived on, ``localhost`` on loopback, the DSN's host,
  and ``--allowed-host`` names): a page of another site that rebinds its DNS name to this
  machine (DNS rebinding) gets 421, not your data.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Iterable, Optional, Set

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 1000  # sign-ins beyond this push out the oldest sessions
FAILURES_ALLOWED = 5  # failed token checks per address and window before 429
WINDOW_ENV = "RELEASETAG_SERVE_LOGIN_WINDOW"
MAX_ADDRESSES = 10000  # addresses with recent failures remembered
Clock = Callable[[], float]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual names of this machine's loopback."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str:
    """The host part of a Host header (``[::1]:9000`` -> ``::1``, ``a.b:80`` -> ``a.b``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    if header.count(":") == 1:
        return header.split(":", 1)[0]
    return header


class PageSessions:
    """Signed-in browsers: random ids with an expiry, in memory only."""

    def __init__(self, seconds: float = SESSION_SECONDS, clock: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._expiry: "OrderedDict[str, float]" = OrderedDict()
        self._lock = threading.Lock()

    def start(self) -> str:
        """A new session id, valid for ``seconds``."""
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            for old in [k for k, until in self._expiry.items() if until <= now]:
                del self._expiry[old]
            while len(self._expiry) >= MAX_SESSIONS:
                self._expiry.popitem(last=False)
            self._expiry[sid] = now + self.seconds
        return sid

    def valid(self, sid: Optional[str]) -> bool:
        if not sid:
            return False
        with self._lock:
            until = self._expiry.get(sid)
            if until is None:
                return False
            if until <= self._clock():
                del self._expiry[sid]
                return False
            return True


class FailureLimit:
    """Failed token checks per client address in a sliding window."""

    def __init__(
        self,
        window: Optional[float] = None,
        allowed: int = FAILURES_ALLOWED,
        clock: Clock = time.monotonic,
    ) -> None:
        self.window = window if window is not None else _window_from_env()
        self.allowed = allowed
        self._clock = clock
        self._failures: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> Deque[float]:
        times = self._failures.get(address) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: it may now)."""
        now = self._clock()
        with self._lock:
            times = self._recent(address, now)
            if not times:
                self._failures.pop(address, None)
            if len(times) < self.allowed:
                return 0.0
            return max(times[-self.allowed] + self.window - now, 0.001)

    def failed(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            times = self._recent(address, now)
            times.append(now)
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)


def _window_from_env() -> float:
    value = os.environ.get(WINDOW_ENV, "")
    try:
        return max(float(value), 0.0) if value else 60.0
    except ValueError:
        return 60.0


class Access:
    """The collector's rules for names and pages (see the module docstring)."""

    def __init__(
        self,
        bound_host: str,
        token: str,
        *,
        open_pages: bool = False,
        page_token: bool = False,
        names: Iterable[str] = (),
        port: int = 0,
    ) -> None:
        self.loopback = is_loopback(bound_host) if bound_host else False
        self.token = token
        self.cookie = f"releasetag_session_{port}"
        self.sessions = PageSessions()
        self.failures = FailureLimit()
        self.pages_need_token = page_token or (not self.loopback and not open_pages)
        allowed: Set[str] = {host_of(n) for n in names if n}
        allowed.add(bound_host.strip("[]").lower())
        if self.loopback:
            allowed.update(("127.0.0.1", "::1", *LOOPBACK_NAMES))
        self.allowed = allowed

    def host_allowed(self, host_header: Optional[str], local_addr: Optional[str]) -> bool:
        """Whether a request naming ``host_header`` and arriving on ``local_addr`` may in."""
        if not host_header:  # HTTP/1.0 clients may send none: nothing to rebind
            return True
        host = host_of(host_header)
        if host in self.allowed:
            return True
        return bool(local_addr) and host == str(local_addr).strip("[]").lower()

    def token_matches(self, candidate: Optional[str]) -> bool:
        """Whether ``candidate`` is this collector's API token (in constant time)."""
        if not candidate:
            return False
        return hmac.compare_digest(
            candidate.strip().encode("utf-8", "replace"), self.token.encode("utf-8")
        )

    def page_allowed(self, authorization: Optional[str], cookie: Optional[str]) -> bool:
        """Whether a page request may in: open pages, the token as Bearer, or a session."""
        if not self.pages_need_token:
            return True
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() in ("bearer", "token") and self.token_matches(value):
            return True
        return self.sessions.valid(cookie_value(cookie or "", self.cookie))

    def session_cookie(self, sid: str) -> str:
        """The Set-Cookie value that hands session ``sid`` to a browser."""
        return (
            f"{self.cookie}={sid}; Path=/; Max-Age={int(self.sessions.seconds)}; HttpOnly; "
            "SameSite=Strict"
        )


def client_key(remote_addr: Optional[str]) -> str:
    """What failures are counted by: the client's IPv4 address, or its IPv6 /64 network
    (one machine usually holds a whole /64)."""
    text = (remote_addr or "").strip("[]")
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return text
    if addr.version == 6 and addr.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr.ipv4_mapped or addr) if addr.version == 6 else str(addr)


def cookie_value(header: str, name: str) -> Optional[str]:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None
