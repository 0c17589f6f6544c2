"""What the environment says about reaching a server: proxies, ``no_proxy``, CA bundles, and
URLs shown without their credentials; and the small pieces ``httpconn`` and its
``http.client`` classes share (``DeadlineExceeded``, ``nodelay``).

Read the way curl, requests and OpenSSL read them, so that a pipeline's existing settings work
unchanged; nothing here imports ``urllib.request`` (which would load ``http.client``, ``ssl``
and ``email`` just to read a variable).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from typing import List, Mapping, Optional, Tuple

BLOCK = 65536  # bytes read or sent at a time


class DeadlineExceeded(OSError):
    """An exchange ran past its deadline (a server answering too slowly, a byte at a time)."""


def nodelay(sock: "socket.socket") -> "socket.socket":
    """``sock`` with TCP_NODELAY set (where the OS allows it)."""
    import socket

    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    return sock


def resolve_proxy(
    scheme: str,
    host: str,
    explicit: Optional[str] = None,
    *,
    port: Optional[int] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Optional[str]:
    """The proxy for ``scheme://host[:port]``: ``explicit`` ("" = none), else the
    environment's (``{scheme}_proxy``, then ``all_proxy``; lower case first) unless
    ``no_proxy`` names the host; None for a direct connection."""
    if explicit is not None:
        return explicit or None
    environ = os.environ if env is None else env
    if not any(k[-6:].lower() == "_proxy" for k in environ):
        return None  # the common case
    names = [f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY"]
    if scheme == "http" and "REQUEST_METHOD" in environ:
        names.remove("HTTP_PROXY")  # a CGI request's Proxy: header lands there (httpoxy)
    proxy = next((environ[n].strip() for n in names if environ.get(n, "").strip()), None)
    if not proxy:
        return None
    no_proxy = environ.get("no_proxy")
    if no_proxy is None:
        no_proxy = environ.get("NO_PROXY", "")
    if bypasses(no_proxy, host, port or (443 if scheme == "https" else 80)):
        return None
    return proxy


def bypasses(no_proxy: str, host: str, port: int) -> bool:
    """True when the ``no_proxy`` list names ``host:port``: ``*``; a name, matching itself and
    its subdomains (a leading ``.`` or ``*.`` is the same); ``name:port``; an IP address;
    an IP range in CIDR form (``10.0.0.0/8``)."""
    host = host.lower().strip("[]").rstrip(".")
    for entry in no_proxy.replace(" ", ",").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if _ip_match(name, host):
            return True
        name = name.lstrip("*").lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_port(entry: str) -> Tuple[str, Optional[int]]:
    if entry.startswith("["):  # [::1]:8080
        addr, _, rest = entry[1:].partition("]")
        return addr, int(rest[1:]) if rest[1:].isdigit() else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        return name, int(port) if port.isdigit() else None
    return entry, None


def _ip_match(entry: str, host: str) -> bool:
    """``entry`` is an IP address or CIDR range holding ``host`` (an IP address)."""
    if not entry or not all(c in "0123456789abcdef.:/" for c in entry):
        return False
    if not all(c in "0123456789abcdef.:" for c in host) or not any(c.isdigit() for c in host):
        return False
    import ipaddress

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


# the CA bundle variables, in the order they win: requests', curl's, then OpenSSL's own
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def ca_locations(
    explicit: Optional[str] = None, env: Optional[Mapping[str, str]] = None
) -> Tuple[Optional[str], Optional[str], str]:
    """``(cafile, capath, where it came from)`` for verifying servers: ``explicit``
    (``ca_certs``), else the first of ``CA_VARIABLES`` set (a folder counts as ``capath``),
    else ``SSL_CERT_DIR``, else certifi's bundle; ``(None, None, ...)`` means the system's."""
    environ = os.environ if env is None else env
    found: List[Tuple[Optional[str], str]] = [(explicit, "the ca_certs option")]
    found += [(environ.get(n), n) for n in CA_VARIABLES]
    for path, source in found:
        if path:
            if os.path.isdir(path):
                return None, path, source
            return path, environ.get("SSL_CERT_DIR") or None, source
    if environ.get("SSL_CERT_DIR"):
        return None, environ["SSL_CERT_DIR"], "SSL_CERT_DIR"
    bundle = certifi_bundle()
    if bundle is None:
        return None, None, "the system's certificates"
    return bundle, None, "certifi"


def certifi_bundle() -> Optional[str]:
    """The path of certifi's CA bundle, or None without certifi. Found beside the package
    without importing it: ``import certifi`` loads ``importlib.resources`` (about 25 ms)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("certifi")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "cacert.pem")
    if os.path.isfile(path):
        return path
    try:  # an unusual install (a zip): ask certifi itself
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def display_url(url: str) -> str:
    """``url`` as it may be shown: any ``user:password@`` replaced by ``***@``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a URL that cannot be parsed>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc="***@" + host))


def without_credentials(url: str) -> str:
    """``url`` without its ``user:password@`` part (what is sent on the wire)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def mask_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``."""
    if "@" not in text or "://" not in text:
        return text
    import re

    return re.sub(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#]*@", r"\1***@", text)


def origin(url: str) -> Tuple[str, str, int]:
    """(scheme, host, port) of ``url``: where a credential for it may go."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or default
