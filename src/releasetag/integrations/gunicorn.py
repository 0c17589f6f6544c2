"""gunicorn: workers that die (SIGKILL from the OOM killer, a segfault) are reported by the
master, with the request they were serving.

- With ``--preload`` (``preload_app = True``) the app's init() runs in the master: nothing to
  add, the integration hooks the master's ``child_exit`` itself.
- Without it, one line in ``gunicorn.conf.py``::

      from releasetag.integrations.gunicorn import child_exit  # noqa: F401

  The master then reports with the client of an init() it ran (in the config file), else with
  one made from the environment (``RELEASETAG_DSN`` / ``SENTRY_DSN``) at the first death.

Each worker forked by a watching master keeps a *slot*: a 1 KiB file (in
``<tempdir>/releasetag-<uid>/workers/<master pid>/``) mapped in memory, where the sync
worker writes the method and path (no query string) of the request it starts and clears it
when the request is done: two memory writes a request, no system call. When a worker ends,
the master reads the wait status gunicorn reaped (from ``reap_workers``) and the slot, and
hands both to ``worker_deaths.lost`` (one event per death, the crashed session).
"""

from __future__ import annotations

import os
import sys

from ..current import get_client
from ..protocol.log import internal_error
from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple

    from ..client import Client

SLOT_SIZE = 1024
_META = 512  # offset of the slot's meta (JSON: crash folder, release), NUL-terminated
_MAX_LINE = _META - 2

_master: Optional[int] = None  # pid of the master process that watches its workers
_slot: Optional[_Slot] = None  # this worker's slot (in a worker of a watching master)
_master_client: Optional[Client] = None  # made from the environment (hook without init())
_patched = False


def slot_dir(master: int) -> str:
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"releasetag-{uid}", "workers", str(master))


class _Slot:
    """A worker's slot: byte 0 is 1 while a request runs, its line follows (NUL-ended)."""

    __slots__ = ("mem", "meta")

    def __init__(self, mem: Any) -> None:
        self.mem = mem
        self.meta = False  # written at the first request (after the app's init() ran)

    def begin(self, req: Any) -> None:
        if not self.meta:
            self._write_meta()
        line = f"{req.method} {req.path}".encode("utf-8", "replace")[:_MAX_LINE]
        mem = self.mem
        mem[1 : len(line) + 2] = line + b"\0"
        mem[0] = 1

    def end(self) -> None:
        self.mem[0] = 0

    def _write_meta(self) -> None:
        import json

        from .. import native_crashes

        self.meta = True
        client = get_client()
        record = native_crashes._record_path
        meta = {
            "crash_folder": os.path.dirname(record) if record else None,
            "release": client.options.release if client is not None else None,
        }
        data = json.dumps(meta).encode("utf-8")[: SLOT_SIZE - _META - 1]
        self.mem[_META : _META + len(data) + 1] = data + b"\0"


def watch() -> None:
    """In the master: let the workers forked from now on keep a slot (idempotent)."""
    global _master
    if _master == os.getpid():
        return
    _master = os.getpid()
    try:
        os.makedirs(slot_dir(_master), mode=0o700, exist_ok=True)
    except OSError:
        internal_error("cannot make the folder of gunicorn worker slots")
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_in_worker)
    import atexit

    atexit.register(_remove_slots, _master)
    from .logging import reported_elsewhere

    reported_elsewhere.append(_reported_here)


# the master's lines about a dead worker (gunicorn.error): the death's event is ours
_SIGNALED = ("Worker (pid:%s) was sent %s!", "Worker (pid:%s) was sent %s! Perhaps out of memory?")
_MID_REQUEST = ("Worker (pid:%s) exited with code %s.",)


def _reported_here(record: Any) -> bool:
    if record.name != "gunicorn.error" or _master != os.getpid():
        return False
    if record.msg in _SIGNALED:
        return True
    if record.msg in _MID_REQUEST and record.args:  # reported when a request was cut
        try:
            with open(os.path.join(slot_dir(_master), str(record.args[0])), "rb") as fh:
                return fh.read(1) == b"\x01"
        except (OSError, TypeError):
            return False
    return False


def _remove_slots(master: int) -> None:
    """At the master's exit: its slot folder goes (workers run this too: not theirs)."""
    if os.getpid() == master:
        import shutil

        shutil.rmtree(slot_dir(master), ignore_errors=True)


def _in_worker() -> None:
    """After a fork of the watching master: open this worker's slot, wrap the request calls."""
    global _slot, _master_client
    if _master_client is not None and _master_client.transport is not None:
        from .. import lifecycle

        lifecycle.untrack(_master_client.transport)  # what the master queued is not ours
        _master_client = None
    if _master is None or os.getppid() != _master or "gunicorn.arbiter" not in sys.modules:
        return
    try:
        import mmap

        path = os.path.join(slot_dir(_master), str(os.getpid()))
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, SLOT_SIZE)
            _slot = _Slot(mmap.mmap(fd, SLOT_SIZE))
        finally:
            os.close(fd)
        _wrap_workers()
    except Exception:
        internal_error("opening the gunicorn worker slot failed")


def _wrap_workers() -> None:
    global _patched
    if _patched:
        return
    _patched = True
    module = sys.modules.get("gunicorn.workers.sync")
    worker = getattr(module, "SyncWorker", None)
    if worker is not None:
        worker.handle_request = _recording(worker.handle_request, 1)


def _recording(original: Callable[..., Any], index: int) -> Callable[..., Any]:
    """``handle_request`` writing the request (argument ``index``) to the slot. An exit in the
    middle (SystemExit from gunicorn's timeout abort) leaves the slot busy."""

    def handle_request(self: Any, *args: Any) -> Any:
        slot = _slot
        if slot is None:
            return original(self, *args)
        try:
            slot.begin(args[index])
        except Exception:
            pass  # never in the way of a request
        try:
            result = original(self, *args)
        except Exception:
            slot.end()
            raise
        slot.end()
        return result

    return handle_request


def read_slot(master: int, pid: int) -> Tuple[Optional[str], Dict[str, Any]]:
    """(the line of the request in flight or None, the meta) of worker ``pid``; the slot file
    is removed. The meta has ``slot: True`` when the worker recorded its requests (a sync
    worker that started one); else the request in flight is not known."""
    import json

    path = os.path.join(slot_dir(master), str(pid))
    try:
        with open(path, "rb") as fh:
            data = fh.read(SLOT_SIZE)
        os.unlink(path)
    except OSError:
        return None, {}
    meta: Dict[str, Any] = {}
    try:
        found = json.loads(data[_META:].split(b"\0", 1)[0].decode("utf-8") or "{}")
        if isinstance(found, dict) and found:
            meta.update(found, slot=True)  # the worker records its requests (sync worker)
    except (ValueError, UnicodeDecodeError):
        pass
    if len(data) < 2 or data[0] != 1:
        return None, meta
    return data[1:_META].split(b"\0", 1)[0].decode("utf-8", "replace"), meta


def _reaped_status(pid: int) -> Optional[int]:
    """The wait status gunicorn's ``reap_workers`` got for ``pid`` (the hook's caller frame:
    gunicorn hands the hook the worker, not how it ended), None when not found."""
    frame = sys._getframe(1)
    for _ in range(4):
        if frame is None:
            return None
        if frame.f_code.co_name == "reap_workers":
            status = frame.f_locals.get("status")
            if frame.f_locals.get("wpid") == pid and isinstance(status, int):
                return status
            return None
        frame = frame.f_back  # type: ignore[assignment]
    return None


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook (runs in the master after a worker ended)."""
    try:
        status = _reaped_status(worker.pid)
        _worker_ended(worker, status)
    except Exception:
        internal_error("gunicorn: reporting a worker's end failed")


child_exit._releasetag = True  # type: ignore[attr-defined]


def _worker_ended(worker: Any, status: Optional[int]) -> None:
    pid = worker.pid
    line, meta = read_slot(os.getpid(), pid)
    signum = exit_code = None
    if status is not None:
        if os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
        elif os.WIFEXITED(status):
            exit_code = os.WEXITSTATUS(status)
    if not _abnormal(signum, exit_code, line is not None, status is None):
        return
    client = _client_for(meta)
    if client is None:
        return
    from .. import worker_deaths

    what: Optional[Dict[str, Any]] = None
    if meta.get("slot"):
        what = {}
        if line is not None:
            method, _, path = line.partition(" ")
            what = {"request": {"method": method, "url": path}}
    note = "timed out" if getattr(worker, "aborted", False) else ""
    folder = meta.get("crash_folder")
    worker_deaths.lost(
        client, "gunicorn", pid, signum, exit_code=exit_code, what=what,
        crash_folder=folder if isinstance(folder, str) else None, note=note,
        count=signum is not None,  # an exit ran the worker's handlers: it counted the request
    )  # fmt: skip


def _abnormal(signum: Optional[int], code: Optional[int], busy: bool, unknown: bool) -> bool:
    """Killed by a signal (SIGTERM only in the middle of a request: gunicorn's own stop is
    graceful), or a non-zero exit (or an unknown end) in the middle of a request."""
    if signum is not None:
        return signum != 15 or busy
    return busy and (unknown or code != 0)


def _client_for(meta: Dict[str, Any]) -> Optional[Client]:
    """The master's client: the current one, else one made from the environment once."""
    global _master_client
    client = get_client()
    if client is not None and client.active:
        return client
    if _master_client is None:
        from ..client import Client

        release = meta.get("release")
        _master_client = Client(release=release if isinstance(release, str) else None)
        if not _master_client.active:
            from .. import notices

            notices.say_once(
                "gunicorn-no-dsn",
                "gunicorn worker ended abnormally, but the master has no DSN (run with "
                "--preload, call init() in gunicorn.conf.py or set RELEASETAG_DSN): not "
                "reported",
            )
    return _master_client if _master_client.active else None


def _chained(hook: Callable[..., Any]) -> Callable[..., Any]:
    """Our ``child_exit`` first, then the one configured."""

    def both(server: Any, worker: Any) -> None:
        child_exit(server, worker)  # (reaped status: two frames up, within the look)
        hook(server, worker)

    both._releasetag = True  # type: ignore[attr-defined]
    return both


def _hook_master() -> None:
    """In a master that loaded the app (--preload): chain our ``child_exit`` to the one
    configured, at the master's first reap."""
    arbiter = sys.modules.get("gunicorn.arbiter")
    cls = getattr(arbiter, "Arbiter", None)
    if cls is None or getattr(cls.reap_workers, "_releasetag", False):
        return
    reap = cls.reap_workers

    def reap_workers(self: Any) -> Any:
        try:
            setting = self.cfg.settings["child_exit"]
            if not getattr(setting.value, "_releasetag", False):
                setting.value = _chained(setting.value)
        except Exception:
            internal_error("gunicorn: hooking child_exit failed")
        return reap(self)

    reap_workers._releasetag = True  # type: ignore[attr-defined]
    cls.reap_workers = reap_workers


def _in_master() -> bool:
    """Whether this process is gunicorn's master loading the app (--preload)."""
    frame = sys._getframe(1)
    while frame is not None:
        owner = type(frame.f_locals.get("self")).__name__
        if frame.f_code.co_name == "setup" and owner == "Arbiter":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class GunicornIntegration(Integration):
    """Enabled by default under gunicorn; reports from the master when init() runs there."""

    identifier = "gunicorn"
    requires_module = "gunicorn.arbiter"

    def setup(self, client: Any) -> None:
        if _master == os.getpid() or _in_master():
            watch()
            _hook_master()


_CONFIG_LOADERS = ("get_config_from_filename", "get_config_from_module_name")


def _loading_config() -> bool:
    """Whether gunicorn's master is reading its config file (which imported us)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in _CONFIG_LOADERS:
            return "gunicorn.app.base" in sys.modules
        frame = frame.f_back  # type: ignore[assignment]
    return False


if _loading_config():  # ``from releasetag.integrations.gunicorn import child_exit``
    watch()
