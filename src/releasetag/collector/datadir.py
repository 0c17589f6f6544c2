"""The collector's data folder: where it lives, and first-start set-up.

``open_collector`` creates (on first start) and reads back the org, project, DSN key and API
token kept in the data folder; ``CollectorInfo`` is what a user needs to point the SDK and
the CLI at a running collector.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional, Tuple

from releasetag.collector.db.store import Store, new_key
from releasetag.protocol.timefmt import now_iso

DB_NAME = "collector.sqlite3"
DEFAULT_ORG = "local"
DEFAULT_PROJECT = "local"


def default_data_dir() -> str:
    """A per-user data folder: $RELEASETAG_DATA, else the platform's user data folder."""
    if os.environ.get("RELEASETAG_DATA"):
        return os.environ["RELEASETAG_DATA"]
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(base, "releasetag", "collector")


@dataclass
class CollectorInfo:
    """What a user needs to point the SDK and the CLI at this collector."""

    dsn: str
    url: str
    api_url: str
    page: str
    org: str
    project: str
    project_id: int
    token: str
    data: str
    listen: str = ""  # the address and port it really listens on
    pages_need_token: bool = False

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def open_collector(data_dir: str, token: Optional[str] = None) -> Tuple[Store, Dict[str, Any]]:
    """Open (creating on first start) the store and its org, project, DSN key and token."""
    store = Store(os.path.join(data_dir, DB_NAME))
    org = store.get_meta("org")
    if org is None:
        store.set_meta("created", now_iso())
        store.set_meta("org", DEFAULT_ORG)
        org = DEFAULT_ORG
    projects = store.projects()
    project = (
        projects[0]
        if projects
        else store.ensure_project(DEFAULT_PROJECT, DEFAULT_PROJECT, new_key())
    )
    if token:
        store.set_meta("token", token)
    elif store.get_meta("token") is None:
        store.set_meta("token", "rtk_" + secrets.token_hex(24))
    return store, {
        "org": org,
        "project": project["slug"],
        "project_id": project["id"],
        "public_key": project["public_key"],
        "token": store.get_meta("token"),
    }
