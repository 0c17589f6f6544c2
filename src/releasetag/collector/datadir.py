"""The collector's data folder: where it lives, who may read it, and first-start set-up.

``open_collector`` creates (on first start) and reads back the org, project, DSN key and API
token kept in the data folder; ``CollectorInfo`` is what a user needs to point the SDK and
the CLI at a running collector.

The folder holds the API token and every event, so it is the owner's alone: the folder is
created 0700 and the database 0600 whatever the umask (SQLite gives its ``-wal``, ``-shm``
and ``-journal`` files the database's mode); ``secure_data_dir`` tightens a folder made
looser by an older version or by hand and says so.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple

from releasetag.collector.db.store import Store, new_key
from releasetag.protocol.timefmt import now_iso

DB_NAME = "collector.sqlite3"
DEFAULT_ORG = "local"
DEFAULT_PROJECT = "local"
DB_SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's files next to the database
FOLDER_MODE = 0o700
FILE_MODE = 0o600
MIN_TOKEN_LENGTH = 16


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


def token_problem(token: str) -> Optional[str]:
    """Why ``token`` (given by the user) will not do as the API token, or None.

    The message never repeats the token."""
    if len(token) < MIN_TOKEN_LENGTH:
        return (
            f"the token is {len(token)} characters long; use at least {MIN_TOKEN_LENGTH} "
            "(leave it out and the collector makes one)"
        )
    if len(token) > 512:
        return "the token is longer than 512 characters"
    if not all("!" <= ch <= "~" for ch in token):
        return "the token may hold only printable ASCII characters without spaces"
    return None


def secure_data_dir(data_dir: str) -> List[str]:
    """Create ``data_dir`` 0700, or tighten it and the database files in it to 0700/0600.

    Returns one line per change made to an existing folder or file (nothing on a new
    folder, or on a folder already private). A path that is not a folder is left for the
    caller to report."""
    if not os.path.exists(data_dir):
        os.makedirs(data_dir, mode=FOLDER_MODE)
        os.chmod(data_dir, FOLDER_MODE)  # makedirs' mode is masked by the umask
        return []
    if not os.path.isdir(data_dir) or sys.platform == "win32":
        return []
    notes = []
    db = os.path.join(data_dir, DB_NAME)
    for path, mode in [(data_dir, FOLDER_MODE), (db, FILE_MODE)] + [
        (db + side, FILE_MODE) for side in DB_SIDE_FILES
    ]:
        try:
            old = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            continue
        if old & 0o077:
            os.chmod(path, old & mode)
            notes.append(
                f"tightened {path} from {old:04o} to {old & mode:04o}: it holds the "
                "collector's API token and events"
            )
    return notes


def _create_db_file(path: str) -> None:
    """The empty database file, 0600 whatever the umask (SQLite keeps an existing file's
    mode and gives it to its -wal, -shm and -journal files)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def open_collector(data_dir: str, token: Optional[str] = None) -> Tuple[Store, Dict[str, Any]]:
    """Open (creating on first start) the store and its org, project, DSN key and token.

    The folder and database are made private first (``secure_data_dir``)."""
    secure_data_dir(data_dir)
    db_path = os.path.join(data_dir, DB_NAME)
    _create_db_file(db_path)
    store = Store(db_path)
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
