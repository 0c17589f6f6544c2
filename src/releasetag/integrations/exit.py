"""Flush on the exits that skip ``atexit``: ``os._exit`` in forked children, and SIGTERM.

- multiprocessing (fork start method) and billiard (Celery's prefork pool) children end
  with ``os._exit``, which runs no atexit handler. In a forked child releasetag wraps
  ``os._exit`` so that pending events are flushed (within ``shutdown_timeout``, and kept in
  the spool if that runs out) before the process ends.
- ``flush_on_sigterm=True`` (or :func:`install_sigterm_flush`) flushes on SIGTERM and then
  hands the signal to the handler that was installed before (or to the default action).
"""

from __future__ import annotations

import os
import signal
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

_real_os_exit: Optional[Callable[[int], Any]] = None
_previous_sigterm: Any = None
_sigterm_installed = False


def _shutdown_transport(timeout: Optional[float] = None, close: bool = True) -> None:
    """Flush within the timeout; with ``close`` also stop and spool what is left."""
    from .. import api
    client = api.get_client()
    transport = getattr(client, "transport", None)
    if transport is None:
        return
    timeout = client.options.shutdown_timeout if timeout is None else timeout
    try:
        idle = (transport.delivery_stats()["queued"] == 0 and not transport.backlog.has_work()
                and not transport.stats.has_unreported())
    except Exception:  # a user-supplied transport: just flush or close it
        idle = False
    if idle:
        return
    if close:
        client.close(timeout)
    else:
        client.flush(timeout)


def _flushing_os_exit(code: int) -> None:
    try:
        _shutdown_transport()
    except BaseException:
        pass
    assert _real_os_exit is not None
    _real_os_exit(code)


def install_os_exit_flush() -> None:
    """Make ``os._exit`` flush pending events first (idempotent). Used in forked children."""
    global _real_os_exit
    if _real_os_exit is not None:
        return
    _real_os_exit = os._exit
    os._exit = _flushing_os_exit  # type: ignore[assignment]


def uninstall_os_exit_flush() -> None:
    global _real_os_exit
    if _real_os_exit is not None:
        os._exit = _real_os_exit  # type: ignore[assignment]
        _real_os_exit = None


def _on_sigterm(signum: int, frame: Any) -> None:
    previous = _previous_sigterm
    try:
        # A previous handler may keep the process running (gunicorn finishes its requests
        # first): then only flush, so later events are still sent. Otherwise the process
        # ends now: close, which keeps what could not be sent in the spool.
        _shutdown_transport(close=previous in (signal.SIG_DFL, None))
    except Exception:
        pass
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:  # SIG_DFL (or unknown): end the process the way SIGTERM would have
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def install_sigterm_flush() -> bool:
    """Flush on SIGTERM, then chain to the previous handler. Main thread only; idempotent."""
    global _previous_sigterm, _sigterm_installed
    if _sigterm_installed:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        _previous_sigterm = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        return False
    _sigterm_installed = True
    return True
