"""Celery: a prefork child lost in the middle of a task (``WorkerLostError``) is reported by
the worker's main process, where Celery handles the failure: one event naming the task (name
and id, never its arguments), the child's pid and the signal, and the task counted as a
crashed session.

Celery's main process runs the app's module, so its init() and this integration are active
there: nothing to add. A child that died of a signal faulthandler catches (SIGSEGV ...) while
crash records are on left a record, which the next child sends as the fatal event (billiard
hands the WorkerLostError to Celery only after its ``lost_worker_timeout``, by then the
record is sent): the main process then only counts the session (``worker_deaths.py``).
"""

from __future__ import annotations

import os
import re
import sys
import threading

from ..protocol.log import internal_error
from .logging import reported_elsewhere

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple

    from ..client import Client

# billiard's human_status(): "signal 9 (SIGKILL)" or "exitcode 1"
_STATUS = re.compile(r"(signal|exitcode) (-?\d+)")
IDLE_WAIT = 3.0  # seconds: a lost task's WorkerLostError follows billiard's line at once
_exits: Dict[int, str] = {}  # child pid -> its status, from billiard's line
_lock = threading.Lock()


def _reported_here(record: Any) -> bool:
    """Celery's and billiard's lines about a lost child: the death's event is ours. A child
    that died between tasks gets no WorkerLostError: billiard's line starts a short wait, and
    the death is reported without a task unless a WorkerLostError came for it meanwhile."""
    if record.name == "celery.worker.request" and record.msg == "Task handler raised error: %r":
        return bool(record.args) and is_lost(record.args[0])
    if record.name != "multiprocessing" or record.msg != "Process %r pid:%r exited with %r":
        return False
    try:
        pid, status = int(record.args[1]), str(record.args[2])
    except (TypeError, ValueError, IndexError):
        return False
    with _lock:
        _exits[pid] = status
    timer = threading.Timer(IDLE_WAIT, _idle_death, (pid,))
    timer.daemon = True
    timer.start()
    return True


def _idle_death(pid: int) -> None:
    from ..current import get_client

    with _lock:
        status = _exits.pop(pid, None)
    client = get_client()
    if status is None or client is None or not client.active:
        return
    signum, code = status_of(status)
    _report(client, pid, signum, code, {})


def is_lost(exception: Any) -> bool:
    return type(exception).__name__ == "WorkerLostError"


def status_of(message: str) -> Tuple[Optional[int], Optional[int]]:
    """(signal, exit code) from a WorkerLostError's message, each None when not there."""
    found = _STATUS.search(message)
    if found is None:
        return None, None
    number = int(found.group(2))
    return (number, None) if found.group(1) == "signal" else (None, number)


def _child_pid() -> Optional[int]:
    """The pid of the child that ran the task: Celery's Request (``on_failure``'s self) knows
    it; the task_failure signal does not carry it."""
    frame = sys._getframe(1)
    for _ in range(12):
        if frame is None:
            return None
        if frame.f_code.co_name == "on_failure":
            pid = getattr(frame.f_locals.get("self"), "worker_pid", None)
            return pid if isinstance(pid, int) else None
        frame = frame.f_back  # type: ignore[assignment]
    return None


def task_lost(client: Client, task: Any, task_id: Any, exception: Any) -> None:
    """Report the task whose child was lost (from Celery's task_failure, main process)."""
    try:
        signum, code = status_of(str(exception))
        name = getattr(task, "name", None) or "unknown"
        pid = _child_pid()
        with _lock:  # billiard's line said it first: no report "between tasks" for it
            if pid is None and len(_exits) == 1:
                pid = next(iter(_exits))
            if pid is not None:
                _exits.pop(pid, None)
        what = {"task": {"name": name, "id": None if task_id is None else str(task_id)}}
        _report(client, pid, signum, code, what)
    except Exception:
        internal_error("celery: reporting a lost worker failed")


def _report(
    client: Client, pid: Optional[int], signum: Optional[int], code: Optional[int], what: Any
) -> None:
    from .. import native_crashes, worker_deaths

    record = native_crashes._record_path  # the children keep records when we do
    folder = os.path.dirname(record) if record is not None else None
    worker_deaths.lost(
        client, "celery", pid, signum, exit_code=code, what=what,
        crash_folder=folder, record_expected=folder is not None,
    )  # fmt: skip


reported_elsewhere.append(_reported_here)
