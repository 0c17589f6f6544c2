"""Crash records: what a fatal signal leaves behind, for the next process to report.

A segfault or abort inside a C extension kills the interpreter before any Python handler
runs. At init() this module opens a *crash record* in the crash folder and points
``faulthandler`` at it:

- the record's first line is a header (JSON) written at init(): pid, the process's start,
  release, environment, dist, server name, the session (application mode) and the time;
- on SIGSEGV, SIGFPE, SIGABRT, SIGBUS or SIGILL faulthandler appends the Python traceback
  of every thread (it writes from the signal handler, no Python code runs);
- at a normal exit the record is removed; a forked child (gunicorn, Celery prefork) opens
  its own record, so a crash is reported with the header of the process that crashed.

The next process that runs init() with the same folder reports records whose process is
gone (``crash_reports.py``).

Folder: ``<spool_dir>/crashes`` when ``spool_dir`` is set, else
``$XDG_STATE_HOME/releasetag/crashes/<dsn>`` (``~/.local/state/...``), falling back to
``<tempdir>/releasetag-<uid>/crashes/<dsn>``; ``<dsn>`` is the project id and a short
digest of the DSN, so that apps sharing a machine report only their own crashes.

Off with ``native_crashes=False`` or ``RELEASETAG_NATIVE_CRASHES=0``. An app that enabled
faulthandler itself before init() keeps its own output (then no record is written, and a
debug line says so); one that enables it after init() replaces the record the same way.
"""

from __future__ import annotations

import json
import os
import time

from .protocol.log import get_logger, internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, Dict, Optional

    from .client import Client

ENV_SWITCH = "RELEASETAG_NATIVE_CRASHES"
RECORD_PREFIX = "crash-"
RECORD_SUFFIX = ".rec"
FORMAT = 1  # the header's "releasetag_crash" value; other values are another version's

_record: Optional[IO[str]] = None  # the open record (faulthandler writes to its fd)
_record_path: Optional[str] = None
_header: Dict[str, Any] = {}
_fork_hook = False
_exit_hook = False


def enabled(client: Client) -> bool:
    value = os.environ.get(ENV_SWITCH, "").strip().lower()
    if value in ("0", "false", "no", "off"):
        return False
    return bool(getattr(client.options, "native_crashes", True)) and client.active


def crash_dir(client: Client) -> str:
    """The folder of ``client``'s crash records (see the module docstring)."""
    opts = client.options
    if opts.spool_dir:
        return os.path.join(opts.spool_dir, "crashes")
    label = "local"
    if client.dsn is not None:
        digest = _fnv1a(str(opts.dsn))  # (hashlib would load OpenSSL at init: 2 ms)
        label = f"{client.dsn.project_id}-{digest}"
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "releasetag", "crashes", label)


def _fnv1a(text: str) -> str:
    """A short stable digest of ``text`` (FNV-1a, 32 bits): a folder label, not a secret."""
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def _fallback_dir(client: Client) -> str:
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else "user"
    name = os.path.basename(crash_dir(client))
    return os.path.join(tempfile.gettempdir(), f"releasetag-{uid}", "crashes", name)


def process_start_ticks(pid: int) -> Optional[int]:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else None: with
    the pid it tells a live process from a later one that got the same pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
        return int(data[data.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def header_for(client: Client) -> Dict[str, Any]:
    opts = client.options
    pid = os.getpid()
    header: Dict[str, Any] = {
        "releasetag_crash": FORMAT,
        "pid": pid,
        "proc_start": process_start_ticks(pid),
        "started": time.time(),
        "release": opts.release,
        "environment": opts.environment,
        "dist": opts.dist,
        "server_name": opts.server_name,
        "session": None,
    }
    sessions = client.sessions
    process = sessions._process if sessions is not None else None
    if process is not None:
        header["session"] = {
            "sid": process.sid,
            "started": process.started,
            "did": process.did,
            "attrs": dict(sessions.attrs),  # type: ignore[union-attr]
        }
    return header


def start(client: Client) -> Optional[str]:
    """Open this process's crash record and enable faulthandler on it; the record's path, or
    None when off (switched off, faulthandler in the app's use, folder not writable)."""
    if not enabled(client):
        stop()
        return None
    import faulthandler

    if faulthandler.is_enabled() and _record is None:
        get_logger().debug(
            "faulthandler is enabled by the app: its output is kept, no crash record"
        )
        return None
    header = header_for(client)
    path = _open_record(crash_dir(client), header)
    if path is None:
        path = _open_record(_fallback_dir(client), header)
    if path is None:
        get_logger().warning(
            "no writable folder for crash records: native crashes are not reported"
        )
        return None
    _install_hooks()
    return path


def _open_record(folder: str, header: Dict[str, Any]) -> Optional[str]:
    global _record, _record_path, _header
    import faulthandler

    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        path = os.path.join(folder, f"{RECORD_PREFIX}{header['pid']}-{os.urandom(4).hex()}")
        path += RECORD_SUFFIX
        fh = open(path, "w", encoding="utf-8")
        fh.write(json.dumps(header, separators=(",", ":"), default=str) + "\n")
        fh.flush()
        faulthandler.enable(file=fh, all_threads=True)
    except (OSError, ValueError):
        get_logger().debug("cannot write a crash record in %s", folder, exc_info=True)
        return None
    _close_record(unlink=True)  # the one of an earlier init() in this process
    _record, _record_path, _header = fh, path, header
    return path


def _close_record(unlink: bool) -> None:
    global _record, _record_path
    record, path = _record, _record_path
    _record = _record_path = None
    if record is not None:
        try:
            record.close()
        except OSError:
            pass
    if unlink and path is not None:
        try:
            os.unlink(path)
            os.rmdir(os.path.dirname(path))  # when it was the last one: no empty folder left
        except OSError:
            pass


def stop() -> None:
    """Disable faulthandler (when it writes to our record) and remove the record."""
    if _record is None:
        return
    try:
        import faulthandler

        faulthandler.disable()
    except Exception:
        internal_error("disabling faulthandler failed")
    _close_record(unlink=True)


def _install_hooks() -> None:
    global _fork_hook, _exit_hook
    if not _exit_hook:
        import atexit

        _exit_hook = True
        atexit.register(stop)
    if not _fork_hook and hasattr(os, "register_at_fork"):
        _fork_hook = True
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    """A forked child writes its own record (the parent's stays the parent's)."""
    global _record, _record_path
    if _record is None:
        return
    parent_dir = os.path.dirname(_record_path or "")
    try:
        _record.close()  # our copy of the parent's descriptor; the file stays
    except OSError:
        pass
    _record = _record_path = None
    try:
        from . import current

        client = current.get_client()
        header = header_for(client) if client is not None else dict(_header, pid=os.getpid())
        header["pid"] = os.getpid()
        header["proc_start"] = process_start_ticks(os.getpid())
        header["started"] = time.time()
        if _open_record(parent_dir, header) is None:
            import faulthandler

            faulthandler.disable()
    except Exception:
        internal_error("opening the crash record of a forked child failed")
