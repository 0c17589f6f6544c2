"""Run the collector: open the data folder, build the app, serve it, stop it.

Binds to 127.0.0.1 unless told otherwise (``releasetag serve --host``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from typing import Any, Optional, Sequence

from releasetag.protocol.errors import ConfigurationError

from .access import Access, is_loopback
from .app import make_app
from .datadir import CollectorInfo, open_collector
from .gateway import CollectorServer

log = logging.getLogger("releasetag.collector")


class CollectorError(ConfigurationError):
    """The collector cannot start; the message is one line for people."""


class Collector:
    """A running (or ready to run) collector: store, app, server and the info to print."""

    def __init__(
        self,
        data_dir: str,
        host: str = "127.0.0.1",
        port: int = 9000,
        token: Optional[str] = None,
        mailer: Any = None,
        *,
        open_pages: bool = False,
        page_token: bool = False,
        allowed_hosts: Sequence[str] = (),
    ) -> None:
        self.data_dir = os.path.abspath(data_dir)
        if os.path.exists(self.data_dir) and not os.path.isdir(self.data_dir):
            raise CollectorError(f"data folder {self.data_dir} is a file, not a folder")
        try:
            self.store, meta = open_collector(self.data_dir, token)
        except OSError as exc:
            raise CollectorError(
                f"cannot use data folder {self.data_dir}: {exc.strerror or exc}"
            ) from None
        except sqlite3.Error as exc:
            raise CollectorError(
                f"cannot open the collector database in {self.data_dir}: {exc}"
            ) from None
        self.app = make_app(self.store, meta["org"], meta["token"], mailer)
        try:
            self.server = CollectorServer((host, port), self.app)
        except OSError as exc:
            self.store.close()
            raise CollectorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        bound_host, bound_port = self.server.server_address[:2]
        bound_host = str(bound_host)
        name = _public_name(bound_host)
        self.app.ctx.access = Access(
            bound_host,
            meta["token"],
            open_pages=open_pages,
            page_token=page_token,
            names=[name, *allowed_hosts],
            port=int(bound_port),
        )
        shown = f"[{name}]" if ":" in name else name
        base = f"http://{shown}:{bound_port}"
        self.info = CollectorInfo(
            dsn=f"http://{meta['public_key']}@{shown}:{bound_port}/{meta['project_id']}",
            url=base + "/",
            api_url=base + "/api/0/",
            page=base + "/",
            org=meta["org"],
            project=meta["project"],
            project_id=meta["project_id"],
            token=meta["token"],
            data=self.data_dir,
            listen=f"[{bound_host}]:{bound_port}"
            if ":" in bound_host
            else f"{bound_host}:{bound_port}",
            pages_need_token=self.app.ctx.access.pages_need_token,
        )
        self._thread: Optional[threading.Thread] = None
        self.monitor_watch = _monitor_watch(self.store)

    def serve_forever(self) -> None:
        self.monitor_watch.start()  # missed and timed-out cron runs (collector/monitor_rules)
        self.server.serve_forever(poll_interval=0.2)

    def start(self) -> "Collector":
        """Serve in a background thread (the demo and in-process users)."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="releasetag-collector", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()
        self.monitor_watch.stop()
        self.store.close()


def _monitor_watch(store: Any) -> Any:
    """The judge of cron monitors, every ``RELEASETAG_MONITOR_CHECK_SECONDS`` (default 30)."""
    from .monitor_rules import MonitorWatch

    try:
        interval = float(os.environ.get("RELEASETAG_MONITOR_CHECK_SECONDS") or 30)
    except ValueError:
        interval = 30.0
    return MonitorWatch(store, max(0.2, interval))


def _public_name(bound_host: str) -> str:
    """The name to put in the DSN and URLs: the bound address, or for a wildcard bind
    (0.0.0.0, ::) this machine's host name when it resolves, else 127.0.0.1."""
    if bound_host not in ("0.0.0.0", "::", ""):
        return bound_host
    import socket

    name = socket.gethostname()
    try:
        socket.getaddrinfo(name, None)
    except (OSError, UnicodeError):
        return "127.0.0.1"
    return name if not is_loopback(name) else "127.0.0.1"
