"""Flush before a process ends itself with a signal.

uvicorn (0.29+) handles SIGTERM and SIGINT itself, shuts down gracefully (the requests in
flight finish), restores the handlers it found (the default ones) and raises the signal again
with ``signal.raise_signal``: the process then dies of it, ``atexit`` never runs, and what was
queued (events, the sessions of the last minute) was lost. init() wraps
``signal.raise_signal``: when the signal raised would end the process (its handler is the
default one and the default action ends it), the SDK first ends its sessions, flushes and
closes within ``shutdown_timeout`` (like an exit), then the signal is raised as asked.

A process whose SIGTERM still has its default action at init() (Django's ``runserver
--noreload``, a plain script or worker loop) would die of it at once, losing the same: init()
then installs the SIGTERM flush (``lifecycle.install_sigterm_flush``: flush and close, then die
of SIGTERM as before) unless ``flush_on_sigterm=False``. A server that installs its own handler
later replaces it (and exits through Python, or raises the signal: above).
"""

from __future__ import annotations

from .protocol.log import internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from .client import Client

_real_raise_signal: Optional[Callable[[int], Any]] = None


def install(client: Optional[Client] = None) -> None:
    """Wrap ``signal.raise_signal`` (idempotent) when ``signal`` is loaded: a server that
    raises signals has imported it before the app's init() (loading it costs 0.7 ms). With
    ``client``: flush on a SIGTERM that has its default action, unless the option says no."""
    global _real_raise_signal
    import sys

    if client is not None and client.options.flush_on_sigterm is None:
        _flush_on_default_sigterm()
    if "uvicorn.workers" in sys.modules or "uvicorn_worker" in sys.modules:
        from . import quick_shutdown

        quick_shutdown.install()
    signal = sys.modules.get("signal")
    if signal is None or _real_raise_signal is not None or not hasattr(signal, "raise_signal"):
        return
    _real_raise_signal = signal.raise_signal
    setattr(signal, "raise_signal", _raise_signal)  # noqa: B010 - a module from sys.modules


def _flush_on_default_sigterm() -> None:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    try:
        default = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    except (ValueError, OSError):
        return
    if default:
        from . import lifecycle

        lifecycle.install_sigterm_flush()


def _ends_the_process(signum: int) -> bool:
    import signal

    fatal = {
        getattr(signal, name, None)
        for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGABRT")
    }
    try:
        return signum in fatal and signal.getsignal(signum) == signal.SIG_DFL
    except (ValueError, OSError):
        return False


def _raise_signal(signum: int) -> None:
    if _ends_the_process(signum):
        try:
            from . import lifecycle

            lifecycle._close_all_at_exit()  # what exit would have done: sessions, then flush
        except Exception:
            internal_error("flushing before a raised signal failed")
    assert _real_raise_signal is not None
    _real_raise_signal(signum)
