"""The HTTP connection pool the transport posts through (urllib3, which requests brings).

The transport talks to urllib3 directly rather than through ``requests.Session``: on a
local server requests' per-request work (hooks, cookie jar, setting merges) cost more
than the rest of a POST. requests stays the declared dependency; it is what installs
urllib3 and the CA bundle (certifi) used here. Proxies come from the options, else from
the environment (resolved once, like requests does per request).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit


class Connection:
    """Keep-alive connections to one endpoint, shared by the sending threads."""

    def __init__(self, url: str, headers: Dict[str, str], *, maxsize: int = 2,
                 http_proxy: Optional[str] = None, https_proxy: Optional[str] = None,
                 ca_certs: Optional[str] = None) -> None:
        self.url = url
        self.headers = dict(headers)
        self.maxsize = max(1, maxsize)
        self.scheme = urlsplit(url).scheme
        self.proxy = https_proxy if self.scheme == "https" else http_proxy
        self.ca_certs = ca_certs
        self._pool: Any = None
        self._lock = threading.Lock()

    def _make_pool(self) -> Any:
        import urllib3  # noqa: PLC0415 - imported with requests at transport creation

        kwargs: Dict[str, Any] = {"num_pools": 2, "maxsize": self.maxsize, "block": False,
                                  "retries": False}
        if self.scheme == "https":
            ca = self.ca_certs
            if not ca:
                from requests.certs import where  # certifi's bundle, as requests uses
                ca = where()
            kwargs.update(cert_reqs="CERT_REQUIRED", ca_certs=ca)
        proxy = self.proxy
        if proxy is None:
            try:
                from requests.utils import get_environ_proxies
                proxy = get_environ_proxies(self.url).get(self.scheme)
            except Exception:
                proxy = None
        if proxy:
            if proxy.startswith("socks"):
                from urllib3.contrib.socks import SOCKSProxyManager
                return SOCKSProxyManager(proxy, **kwargs)
            return urllib3.ProxyManager(proxy, **kwargs)
        return urllib3.PoolManager(**kwargs)

    def post(self, body: bytes, headers: Dict[str, str], timeout: float
             ) -> Tuple[int, Dict[str, str], bytes]:
        """POST ``body``; (status, lower-cased headers, response body). Raises on I/O errors."""
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = self._make_pool()
                pool = self._pool
        import urllib3  # noqa: PLC0415

        all_headers = dict(self.headers)
        all_headers.update(headers)
        response = pool.urlopen("POST", self.url, body=body, headers=all_headers,
                                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                                retries=False, redirect=False, preload_content=True)
        lower = {k.lower(): v for k, v in response.headers.items()}
        return response.status, lower, response.data or b""

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.clear()
            except Exception:
                pass
