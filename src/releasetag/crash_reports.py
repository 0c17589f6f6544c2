"""Reporting crash records left by processes that died of a fatal signal.

At init() every record
in the crash folder (``native_crashes.py``) whose process is gone is:

1. claimed: renamed to ``<name>.claim-<pid>``, which succeeds for exactly one process when
   several start at once over one folder;
2. read (at most ``MAX_READ`` bytes: an enormous record is cut, what was read is sent);
3. sent once as a fatal event with the crashed process's release, environment, dist and
   server name, and in application mode its session's ``crashed`` update; or discarded
   with a counted reason (``internal_sdk_error``) and one debug line;
4. deleted once the event was delivered.

A claimer that dies between the delivery and the deletion leaves its claim, and the next
process sends the record again: the event's id is derived from the record (its name and
header line: pid, process start, time), so the copy carries the same id and the server drops
it (Sentry and ``releasetag serve`` keep one event per id; the session update names the
same session id).

A record whose process is still alive is left alone (a live pid whose start time differs is
a later process that reused the pid: the record is reported). A record holding only its
header (the process ended without running its exit handlers: SIGKILL, ``os._exit``) has
nothing to report and is deleted; killed workers are reported by their parent
(``docs/crashes.md``).
"""

from __future__ import annotations

import json
import os
import re

from . import native_crashes
from .protocol.log import get_logger, internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

    from .client import Client

MAX_READ = 1024 * 1024
MAX_FRAMES = MAX_THREADS = 100  # what faulthandler itself writes at most
_CLAIM = ".claim-"
_claims: List[str] = []  # claims whose events are queued, removed once they are sent

SIGNALS = {
    "Segmentation fault": ("SIGSEGV", 11),
    "Floating point exception": ("SIGFPE", 8),
    "Aborted": ("SIGABRT", 6),
    "Bus error": ("SIGBUS", 7),
    "Illegal instruction": ("SIGILL", 4),
}
_THREAD = re.compile(r"^(Current thread|Thread) (0x[0-9a-fA-F]+)[^(]*\(most recent call first\):")
_STACK = "Stack (most recent call first):"
_FRAME = re.compile(r'^\s+File "(.*)", line (\d+|\?\?\?) in (.*)$')


def report_pending(client: Client, folder: Optional[str] = None) -> int:
    """Report every claimable record in ``folder`` (default: ``client``'s); the number sent."""
    folder = folder or native_crashes.crash_dir(client)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return 0
    sent = 0
    for name in names:
        if not name.startswith(native_crashes.RECORD_PREFIX):
            continue
        path = os.path.join(folder, name)
        if _CLAIM in name:
            name = _reclaim(path)  # a claim of a process that died before its send was done
            path = os.path.join(folder, name)
        if not name.endswith(native_crashes.RECORD_SUFFIX) or path == native_crashes._record_path:
            continue
        try:
            sent += _report_one(client, path)
        except Exception:
            internal_error("reporting crash record %s failed", name)
    return sent


def _reclaim(claim: str) -> str:
    """Rename the claim of a dead process back to its record; the name to look at."""
    record, _, pid = claim.rpartition(_CLAIM)
    try:
        os.kill(int(pid), 0)
        return os.path.basename(claim)  # its claimer lives (or is us): not ours
    except ProcessLookupError:
        pass
    except (OSError, ValueError):
        return os.path.basename(claim)
    try:
        os.rename(claim, record)  # one process wins; the others find the record claimed
    except OSError:
        return os.path.basename(claim)
    return os.path.basename(record)


def _report_one(client: Client, path: str) -> int:
    pid = _pid_of(os.path.basename(path))
    if pid is not None and _alive(pid, path):
        return 0
    return 1 if send_record(client, path) == "sent" else 0


def send_record(
    client: Client, path: str, amend: Optional[Callable[[Dict[str, Any]], None]] = None
) -> str:
    """Claim the record at ``path`` (its process is gone) and send it once; ``amend`` adds
    what the caller knows to the event (a parent: the request in flight). "sent"; "taken"
    when another process claimed it first; "dropped" when it was discarded (unreadable) or
    held no traceback (removed)."""
    claim = f"{path}{_CLAIM}{os.getpid()}"
    try:
        os.rename(path, claim)  # one process wins the claim
    except OSError:
        return "taken"
    keep = False
    try:
        with open(claim, "rb") as fh:
            data = fh.read(MAX_READ + 1)
        cut = len(data) > MAX_READ
        header, traceback_text, why = parse_record(data[:MAX_READ])
        if header is None:
            _discard(client, path, why)
            return "dropped"
        if not traceback_text.strip():
            get_logger().debug("crash record %s has no traceback (process killed): removed", path)
            return "dropped"
        event, session = build_event(client, header, traceback_text, cut, os.path.getmtime(claim))
        event["event_id"] = record_event_id(os.path.basename(path), data)
        if amend is not None:
            amend(event)
        _send(client, event, session)
        keep = True  # until the event is delivered (settle()): a crash now loses nothing
        _claims.append(claim)
        return "sent"
    finally:
        if not keep:
            _remove(claim)


def record_event_id(name: str, data: bytes) -> str:
    """The fatal event's id for the record ``name`` whose content starts with ``data``: the
    same for every process that sends it (32 hex digits of a SHA-256 of the name and header
    line; hashlib is loaded only when a record is reported)."""
    import hashlib

    header = data.partition(b"\n")[0]
    return hashlib.sha256(name.encode("utf-8") + b"\n" + header).hexdigest()[:32]


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def settle(client: Client, timeout: float) -> None:
    """Flush, then remove the claims whose events were sent. Not flushed in time: they stay,
    and the next process (after this one ends) reports them again."""
    if not _claims or not client.flush(timeout):
        return
    while True:
        try:
            claim = _claims.pop()
        except IndexError:  # (the exit hook and the thread may both settle)
            return
        _remove(claim)


def settle_soon(client: Client) -> None:
    """Settle the claims sent (``settle``) in a background thread, within the client's
    ``shutdown_timeout`` (at least 10 s)."""
    import threading

    timeout = max(10.0, float(client.options.shutdown_timeout))
    thread = threading.Thread(target=settle, args=(client, timeout), name="releasetag.crashes")
    thread.daemon = True
    thread.start()


def _pid_of(name: str) -> Optional[int]:
    try:
        return int(name[len(native_crashes.RECORD_PREFIX) :].split("-", 1)[0])
    except ValueError:
        return None


def _alive(pid: int, path: str) -> bool:
    """Whether the process that wrote ``path`` still runs (pid reuse is told apart by the
    process start time in the header, where /proc has it)."""
    if pid == os.getpid():
        return False if native_crashes._record_path != path else True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # exists, owned by someone else
    try:
        with open(path, "rb") as fh:
            first = fh.readline(65536)
        recorded = json.loads(first.decode("utf-8")).get("proc_start")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return True
    now = native_crashes.process_start_ticks(pid)
    return not isinstance(recorded, int) or now is None or recorded == now


def parse_record(data: bytes) -> Tuple[Optional[Dict[str, Any]], str, str]:
    """(header, faulthandler's text, why the header is unusable)."""
    first, _, rest = data.partition(b"\n")
    try:
        header = json.loads(first.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None, "", "truncated or unreadable header"
    if not isinstance(header, dict):
        return None, "", "header is not an object"
    if header.get("releasetag_crash") != native_crashes.FORMAT:
        return None, "", f"written by another version (format {header.get('releasetag_crash')!r})"
    return header, rest.decode("utf-8", "replace"), ""


def parse_faulthandler(text: str) -> Tuple[str, List[Tuple[str, List[Tuple[str, int, str]]]]]:
    """(the fatal error line, [(thread id or "", frames most recent first)])."""
    error = ""
    threads: List[Tuple[str, List[Tuple[str, int, str]]]] = []
    frames: Optional[List[Tuple[str, int, str]]] = None
    for line in text.splitlines():
        if line.startswith("Fatal Python error:"):
            error = error or line.split(":", 1)[1].strip()
            continue
        match = _THREAD.match(line)
        if (match or line.startswith(_STACK)) and len(threads) < MAX_THREADS:
            frames = []
            threads.append(((match.group(1) + " " + match.group(2)) if match else "", frames))
            continue
        found = _FRAME.match(line)
        if found and frames is not None and len(frames) < MAX_FRAMES:
            lineno = int(found.group(2)) if found.group(2).isdigit() else 0
            frames.append((found.group(1), lineno, found.group(3).strip()))
        elif not line.startswith(" "):
            frames = None
    return error, threads


def _frames(client: Client, raw: List[Tuple[str, int, str]]) -> List[Dict[str, Any]]:
    out = []
    builder = client.frames
    for path, lineno, function in reversed(raw):  # oldest call first
        frame: Dict[str, Any] = {
            "filename": os.path.basename(path),
            "abs_path": path,
            "function": function,
            "lineno": lineno,
            "in_app": builder.is_in_app(None, path),
        }
        if builder.include_source and lineno > 0 and os.path.isfile(path):
            _add_source(frame, path, lineno)
        out.append(frame)
    return out


def _add_source(frame: Dict[str, Any], path: str, lineno: int) -> None:
    import linecache

    from .event import CONTEXT_LINES

    lines = linecache.getlines(path)
    if not lines or lineno > len(lines):
        return
    lo = max(0, lineno - 1 - CONTEXT_LINES)
    frame["pre_context"] = [x.rstrip("\r\n") for x in lines[lo : lineno - 1]]
    frame["context_line"] = lines[lineno - 1].rstrip("\r\n")
    frame["post_context"] = [x.rstrip("\r\n") for x in lines[lineno : lineno + CONTEXT_LINES]]


def build_event(
    client: Client, header: Dict[str, Any], text: str, cut: bool, when: float
) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """The fatal event of one record, and its session's ``crashed`` update (or None)."""
    error, threads = parse_faulthandler(text)
    name, number = SIGNALS.get(error, ("FatalError", None))
    # faulthandler lists threads newest first: the crashed one is "Current thread"
    threads.sort(key=lambda thread: not thread[0].startswith("Current"))
    crashed = threads[0] if threads else ("", [])
    mechanism: Dict[str, Any] = {"type": "faulthandler", "handled": False, "synthetic": True}
    if number is not None:
        mechanism["meta"] = {"signal": {"number": number, "name": name}}
    value: Dict[str, Any] = {
        "type": name,
        "value": f"Fatal Python error: {error or 'unknown'} (pid {_number(header.get('pid'))})",
        "mechanism": mechanism,
        "stacktrace": {"frames": _frames(client, crashed[1])},
    }
    event: Dict[str, Any] = {
        "level": "fatal",
        "timestamp": when,
        "exception": {"values": [value]},
        "threads": {"values": [_thread(client, t, i == 0) for i, t in enumerate(threads)]},
        "contexts": {"process": {"pid": _number(header.get("pid"))}},
        "tags": {"crash.signal": name},
    }
    if cut:
        event["extra"] = {"crash_record": f"cut at {MAX_READ} bytes"}
    for key in ("release", "environment", "dist", "server_name"):
        if isinstance(header.get(key), str) and header[key]:
            event[key] = header[key][:200]
    return event, _session_update(header, when)


def _number(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _thread(client: Client, thread: Tuple[str, List[Any]], crashed: bool) -> Dict[str, Any]:
    ident = thread[0].rsplit(" ", 1)[-1]
    out: Dict[str, Any] = {"id": ident or "0", "crashed": crashed, "current": crashed}
    if not crashed:
        out["stacktrace"] = {"frames": _frames(client, thread[1])}
    return out


def _session_update(header: Dict[str, Any], when: float) -> Optional[Dict[str, Any]]:
    session = header.get("session")
    if not isinstance(session, dict) or not isinstance(session.get("sid"), str):
        return None
    from .protocol.session_fields import wire_time

    started = session.get("started")
    if not isinstance(started, (int, float)) or not 0 < started <= when:
        started = when
    attrs = session.get("attrs")
    if not isinstance(attrs, dict) or not all(isinstance(v, str) for v in attrs.values()):
        release = header.get("release")
        attrs = {"release": release if isinstance(release, str) else ""}
    update: Dict[str, Any] = {
        "sid": session["sid"],
        "init": True,  # a crashed process has rarely sent its session yet
        "started": wire_time(started),
        "timestamp": wire_time(when),
        "duration": round(max(0.0, when - started), 3),
        "errors": 1,
        "status": "crashed",
        "attrs": attrs,
    }
    if isinstance(session.get("did"), str):
        update["did"] = session["did"]
    return update


def _send(client: Client, event: Dict[str, Any], session: Optional[Dict[str, Any]]) -> None:
    from .protocol.envelope import Item

    item = Item.from_json("session", session) if session is not None else None
    client._process(event, {}, None, item)


def _discard(client: Client, path: str, why: str) -> None:
    from .transport import reports

    client.transport_stats_lost(reports.INTERNAL_SDK_ERROR)
    get_logger().warning("crash record %s discarded: %s", os.path.basename(path), why)
