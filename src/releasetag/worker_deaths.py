"""Workers that died under a parent process that runs the SDK (gunicorn's master, Celery's
main process): one event per death, and the request or task lost with it counted as a
crashed session.

One owner per death:

- a worker ended by a signal faulthandler catches (SIGSEGV, SIGFPE, SIGABRT, SIGBUS,
  SIGILL) while it kept a crash record (``native_crashes.py``): the record is the event
  (the fatal event with the Python traceback). The parent sends it itself when it gets
  there first (gunicorn calls ``child_exit`` before it starts the replacement), adding what
  it knows (the request in flight); otherwise the replacement worker sends it as usual and
  the parent sends nothing more;
- any other end (SIGKILL from the OOM killer or a timeout, a signal without a record, an
  abnormal exit in the middle of a request): the parent's ``error`` event, naming the
  server, the worker's pid, the signal or exit code, the request or task in flight where it
  is known, and the release.

The lost request or task, when one was in flight, is counted as a crashed session in the
parent's counts (request mode; there is no request session in application mode).
"""

from __future__ import annotations

import os

from .protocol.log import get_logger, internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

    from .client import Client

#: the signals after which a worker with a crash record has written its traceback
FAULT_SIGNALS = (4, 6, 7, 8, 11)  # SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV


def signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def lost(
    client: Client,
    server: str,
    pid: Optional[int],
    signum: Optional[int],
    *,
    exit_code: Optional[int] = None,
    what: Optional[Dict[str, Any]] = None,
    crash_folder: Optional[str] = None,
    record_expected: bool = False,
    note: str = "",
    count: bool = True,
) -> str:
    """Report one dead worker of ``server`` ("gunicorn", "celery"). ``what`` is the request
    (``{"request": {"method", "url"}}``) or task (``{"task": {"name", "id"}}``) in flight,
    None when none was or it is not known; ``crash_folder`` the worker's crash records' folder
    (None: records off), ``record_expected`` when the worker surely kept one (its record may
    be sent and gone already: the parent then sends nothing); ``count`` False when the worker
    counted the request's session itself (it ran its exit handlers). Returns "record", "left"
    (the replacement reports the record), "event" or "none"."""
    outcome = "none"
    try:
        if what and count:
            count_crashed(client)
        if signum in FAULT_SIGNALS and crash_folder and pid is not None:
            found = _crash_record(client, crash_folder, pid, server, what)
            if found != "none" or record_expected:
                return found if found != "none" else "left"
        event = build_event(server, pid, signum, exit_code, what, note)
        client._process(event, {}, None, None)
        outcome = "event"
    except Exception:
        internal_error("reporting a lost %s worker failed", server)
    return outcome


def count_crashed(client: Client) -> None:
    """One crashed request session (request mode) for the request or task lost, queued now
    (a parent serves no requests: its counts would wait for its next flush, or its exit)."""
    sessions = client.sessions
    session = sessions.start_request() if sessions is not None else None
    if session is not None and sessions is not None:
        session.errors = 1
        session.crashed = True
        sessions.end_request(session)
        sessions.flush()


def build_event(
    server: str,
    pid: Optional[int],
    signum: Optional[int],
    exit_code: Optional[int],
    what: Optional[Dict[str, Any]],
    note: str = "",
) -> Dict[str, Any]:
    """The parent's event for a worker that died without a crash record to send."""
    how = f"was killed by {signal_name(signum)}" if signum else f"exited with code {exit_code}"
    if signum == 9:
        how += " (out of memory?)"
    value = f"{server} worker (pid {pid}) {how}"
    worker: Dict[str, Any] = {"server": server, "pid": pid}
    mechanism: Dict[str, Any] = {"type": server, "handled": False, "synthetic": True}
    tags: Dict[str, str] = {"worker.lost": server}
    if signum:
        name = signal_name(signum)
        worker["signal"] = name
        mechanism["meta"] = {"signal": {"number": signum, "name": name}}
        tags["crash.signal"] = name
    else:
        worker["exit_code"] = exit_code
    event: Dict[str, Any] = {
        "level": "error",
        "exception": {"values": [{"type": "WorkerLost", "mechanism": mechanism}]},
        "contexts": {"worker": worker},
        "tags": tags,
    }
    _describe(event, what, worker)
    if what and "task" in what:
        event["exception"]["values"][0]["type"] = "WorkerLostError"  # Celery's own name
    if note:
        worker["note"] = note
        value += f" ({note})"
    if what:
        value += f" during {worker['in_flight']}"
    else:
        value += "; request in flight unknown" if what is None else ""
    event["exception"]["values"][0]["value"] = value
    return event


def _describe(
    event: Dict[str, Any], what: Optional[Dict[str, Any]], worker: Dict[str, Any]
) -> None:
    """Add the request or task in flight to ``event`` (and its line to ``worker``)."""
    if not what:
        return
    request = what.get("request")
    task = what.get("task")
    if isinstance(request, dict):
        line = f"{request.get('method', '')} {request.get('url', '')}".strip()
        event["request"] = {k: v for k, v in request.items() if k in ("method", "url")}
        event["transaction"] = str(request.get("url", ""))[:200]
        event["transaction_info"] = {"source": "url"}
        worker["in_flight"] = line
    elif isinstance(task, dict):
        name = str(task.get("name") or "unknown")[:200]
        event["contexts"]["celery"] = {"task_name": name, "task_id": task.get("id")}
        event["tags"]["celery_task"] = name
        event["transaction"] = name
        worker["in_flight"] = f"task {name}[{task.get('id')}]"


def _crash_record(
    client: Client, folder: str, pid: int, server: str, what: Optional[Dict[str, Any]]
) -> str:
    """Send the crash record of worker ``pid`` with what the parent knows: "record" when sent
    here, "left" when another process has it (claimed), "none" when there is none (or it
    had nothing to send: the usual rules of ``crash_reports`` discarded it)."""
    from . import crash_reports, native_crashes

    prefix = f"{native_crashes.RECORD_PREFIX}{pid}-"
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return "none"

    def amend(event: Dict[str, Any]) -> None:
        worker: Dict[str, Any] = {"server": server, "pid": pid}
        _describe(event, what, worker)
        event.setdefault("contexts", {})["worker"] = worker

    for name in names:
        if not name.endswith(native_crashes.RECORD_SUFFIX):
            return "left"  # claimed by a starting process: it sends the record
        outcome = crash_reports.send_record(client, os.path.join(folder, name), amend)
        if outcome == "taken":
            return "left"
        if outcome == "sent":
            crash_reports.settle_soon(client)  # the claim goes once the event is delivered
            get_logger().debug("sent the crash record of %s worker %d", server, pid)
            return "record"
    return "none"
