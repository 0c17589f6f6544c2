"""Django's autoreloader (``manage.py runserver`` without ``--noreload``) stops its server
child the way the child can report its last minute.

The reloader's parent process runs the server in a child (``subprocess.run``) and turns
SIGTERM into ``sys.exit(0)``; when that exception leaves ``subprocess.run``, the child is
killed with SIGKILL: the child's queued events and the sessions it counted were lost, and so
were its requests in flight. Here the parent asks the child to stop with SIGTERM (which the
child turns into ``sys.exit(0)`` too: its exit handler ends the sessions and flushes) and waits
for it up to the client's ``shutdown_timeout`` plus two seconds before killing it. A Ctrl-C
reaches both processes from the terminal; the parent then waits for the child the same way.
"""

from __future__ import annotations

from ..current import get_client

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_GRACE = 2.0  # seconds on top of shutdown_timeout: the child's start of exit


def patch() -> None:
    """Replace ``django.utils.autoreload.restart_with_reloader`` (idempotent)."""
    from django.utils import autoreload

    if getattr(autoreload.restart_with_reloader, "_releasetag", False):
        return
    setattr(restart_with_reloader, "_releasetag", True)  # noqa: B010
    autoreload.restart_with_reloader = restart_with_reloader


def restart_with_reloader() -> int:
    """Django's own loop (start the child again while it exits with 3), with a child that
    is stopped, not killed, when the parent is told to stop."""
    import os
    import subprocess

    from django.utils import autoreload

    environ = {**os.environ, autoreload.DJANGO_AUTORELOAD_ENV: "true"}
    args = autoreload.get_child_arguments()
    while True:
        child = subprocess.Popen(args, env=environ, close_fds=False)
        try:
            code = child.wait()
        except KeyboardInterrupt:  # Ctrl-C: the terminal told the child too
            _stop(child, ask=False)
            raise
        except BaseException:  # SIGTERM's sys.exit(0)
            _stop(child, ask=True)
            raise
        if code != 3:
            return code


def _stop(child: Any, ask: bool) -> None:
    """Wait for ``child`` to end; ``ask``: send it SIGTERM first. Once (a second signal
    while the child flushes would cut its flush); killed when it outlives the wait."""
    import signal
    import subprocess

    client = get_client()
    timeout = float(client.options.shutdown_timeout) if client is not None else 2.0
    try:
        if child.poll() is None and ask:
            child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout + _GRACE)
        except subprocess.TimeoutExpired:
            if ask:
                raise
            child.send_signal(signal.SIGTERM)  # Ctrl-C did not reach it (kill -INT parent)
            child.wait(timeout + _GRACE)
    except BaseException:  # still running, or a second Ctrl-C
        child.kill()
        child.wait()
