"""gunicorn's quick shutdown with uvicorn's worker: send the sessions before the SIGKILL.

gunicorn answers SIGINT and SIGQUIT (its quick shutdown) by sending SIGQUIT to its workers.
uvicorn's gunicorn worker (``uvicorn.workers.UvicornWorker``, and the uvicorn-worker
package's) only sets a flag on SIGQUIT and keeps serving (Kludex/uvicorn-worker#2) until the
master kills it with SIGKILL after ``graceful_timeout``: the sessions it counted in its last
minute were lost (events go out as they are captured). init() in such a worker (or in a
``--preload`` master) wraps the class's ``handle_exit``: on SIGQUIT the counted sessions are
queued at once, and then every quarter second, so that those of the requests which finish
before the SIGKILL are sent too. The worker's own behaviour is unchanged.
"""

from __future__ import annotations

import threading

from .protocol.log import internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WORKER_MODULES = ("uvicorn.workers", "uvicorn_worker")
_PERIOD = 0.25  # seconds between two flushes of the sessions once SIGQUIT arrived
_started = threading.Event()


def install() -> None:
    """Wrap ``UvicornWorker.handle_exit`` of the worker modules loaded (idempotent)."""
    import sys

    for module in _WORKER_MODULES:
        cls = getattr(sys.modules.get(module), "UvicornWorker", None)
        original = getattr(cls, "handle_exit", None)
        if original is None or getattr(original, "_releasetag", False):
            continue

        def handle_exit(self: Any, sig: Any, frame: Any, _original: Any = original) -> Any:
            import signal

            if sig == signal.SIGQUIT:
                _send_sessions_until_killed()
            return _original(self, sig, frame)

        setattr(handle_exit, "_releasetag", True)  # noqa: B010
        setattr(cls, "handle_exit", handle_exit)  # noqa: B010 - a class from sys.modules


def _send_sessions_until_killed() -> None:
    if _started.is_set():
        return
    _started.set()
    _flush_sessions()
    thread = threading.Thread(target=_run, name="releasetag.quick-shutdown", daemon=True)
    thread.start()


def _run() -> None:
    import time

    while True:  # until the SIGKILL (a daemon thread: a normal exit does not wait for it)
        time.sleep(_PERIOD)
        _flush_sessions()


def _flush_sessions() -> None:
    from . import current

    client = current.get_client()
    sessions = client.sessions if client is not None else None
    if sessions is None:
        return
    try:
        sessions.flush()
    except Exception:
        internal_error("sending the sessions at gunicorn's quick shutdown failed")
