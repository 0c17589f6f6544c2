"""What happens to pending events when the process changes: exit, ``os._exit``, SIGTERM, fork.

- Interpreter exit: every open transport flushes within its ``shutdown_timeout`` (one
  ``atexit`` handler, registered by the first transport, whatever integrations are enabled).
- Fork: the child gets fresh delivery state (queue, threads, connection, locks, counters);
  nothing the parent had queued is sent by the child.
- ``os._exit``: multiprocessing (fork) and billiard (Celery prefork) children end with it,
  which skips ``atexit``; in a forked child it is wrapped to flush first.
- SIGTERM (``flush_on_sigterm=True`` or :func:`install_sigterm_flush`): flush, then hand the
  signal to the handler installed before (or to the default action).
- Sessions (``session_tracking.py``): at exit the process session ends ``exited``; when SIGTERM or
  ``os._exit`` end the process first, ``abnormal`` (application mode installs both hooks).
  Request-mode counts are queued before the flush in every case.
"""

from __future__ import annotations

import os
import threading
import weakref

from . import current
from .protocol.log import internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from .transport.base import Transport

_open_transports: weakref.WeakSet[Transport] = weakref.WeakSet()
_atexit_registered = False
_fork_hook_installed = False
_real_os_exit: Optional[Callable[[int], Any]] = None
_previous_sigterm: Any = None
_sigterm_installed = False


# --- exit ---------------------------------------------------------------------------------
def track(transport: Transport) -> None:
    """Flush ``transport`` at interpreter exit unless it was closed before."""
    global _atexit_registered
    _open_transports.add(transport)
    if not _atexit_registered:
        import atexit

        _atexit_registered = True
        atexit.register(_close_all_at_exit)


def untrack(transport: Transport) -> None:
    _open_transports.discard(transport)


def _close_all_at_exit() -> None:
    """The current client's sessions end (exited), then each open transport flushes within
    its shutdown_timeout; runs on the main thread and starts no thread."""
    client = current.get_client()
    if client is not None:
        client.end_sessions("exited")
        client.flush_telemetry(stop=True)  # buffered logs and metrics go first
    for transport in list(_open_transports):
        options = transport.options
        try:
            transport.close(float(options.shutdown_timeout) if options is not None else 2.0)
        except Exception:
            internal_error("closing a transport at exit failed")


def _shutdown(timeout: Optional[float] = None, close: bool = True) -> None:
    """Flush the current client within the timeout; with ``close`` (the process ends now)
    also end its process session as abnormal, stop and spool what is left. Nothing to do
    when its transport is idle."""
    client = current.get_client()
    transport = client.transport if client is not None else None
    if client is None or transport is None:
        return
    if close:
        client.end_sessions("abnormal")
    elif client.sessions is not None:
        client.sessions.flush()
    client.flush_telemetry()
    if transport.is_idle():
        return
    timeout = client.options.shutdown_timeout if timeout is None else timeout
    if close:
        client.close(timeout)
    else:
        client.flush(timeout)


# --- fork ---------------------------------------------------------------------------------
def install_fork_hook() -> None:
    """Give forked children fresh delivery state (idempotent)."""
    global _fork_hook_installed
    if _fork_hook_installed or not hasattr(os, "register_at_fork"):
        return
    _fork_hook_installed = True
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    client = current.get_client()
    transport = client.transport if client is not None else None
    if transport is None:
        return
    try:
        transport.reinit_after_fork()
        if client is not None and client.sessions is not None:
            client.sessions.reinit_after_fork()
        install_os_exit_flush()
    except Exception:
        internal_error("resetting delivery in a forked child failed")


# --- os._exit -----------------------------------------------------------------------------
def _flushing_os_exit(code: int) -> None:
    try:
        _shutdown()
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


# --- SIGTERM ------------------------------------------------------------------------------
def _on_sigterm(signum: int, frame: Any) -> None:
    import signal

    previous = _previous_sigterm
    try:
        # A previous handler may keep the process running (gunicorn finishes its requests
        # first): then only flush, so later events are still sent. Otherwise the process
        # ends now: close, which keeps what could not be sent in the spool.
        _shutdown(close=previous in (signal.SIG_DFL, None))
    except Exception:
        internal_error("flushing on SIGTERM failed")
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
    import signal

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
