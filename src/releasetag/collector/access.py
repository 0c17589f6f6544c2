"""Who may reach the collector, and under which names.

- On a loopback address (the default, 127.0.0.1) everything is as before: pages are open to
  whoever can reach the port (only this machine), the Web API needs the token.
- Off loopback (``serve --host 0.0.0.0`` or a LAN address) the pages need the token too: an
  ``Authorization: Bearer`` header, or the cookie the ``/login`` form sets. ``--insecure-
  open-pages`` leaves them open, when you mean it; ``--page-token`` asks for the token on
  loopback too (a machine shared with other people).
- Every request must name the collector by an address or name it was told about (its bound
  address, the address the connection arrived on, ``localhost`` on loopback, the DSN's host,
  and ``--allowed-host`` names): a page of another site that rebinds its DNS name to this
  machine (DNS rebinding) gets 421, not your data.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Iterable, Optional, Set

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
COOKIE = "releasetag_token"


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
    ) -> None:
        self.loopback = is_loopback(bound_host) if bound_host else False
        self.token = token
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
        if not candidate:
            return False
        return hmac.compare_digest(
            candidate.strip().encode("utf-8", "replace"), self.token.encode("utf-8")
        )

    def page_allowed(self, authorization: Optional[str], cookie: Optional[str]) -> bool:
        if not self.pages_need_token:
            return True
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() in ("bearer", "token") and self.token_matches(value):
            return True
        return self.token_matches(cookie_value(cookie or "", COOKIE))


def cookie_value(header: str, name: str) -> Optional[str]:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None
