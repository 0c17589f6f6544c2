"""What init() does after the client is set up, so that nothing is lost or silent:

- says on stderr when no release was found (``notices.py``);
- flushes before the process raises a signal that ends it (``signal_exit.py``: uvicorn);
- with ``debug=True``, states the set-up (DSN host and project, release, environment,
  integrations, spool and crash folders) on the debug log, which debug mode shows on stderr;
- opens this process's crash record (``native_crashes.py``) and reports the records left by
  processes that crashed (``crash_reports.py``) right away, so that a short-lived next
  process sends them with its first flush; the folder is only listed when empty.
"""

from __future__ import annotations

import os

from . import native_crashes, notices, signal_exit
from .protocol.log import get_logger, internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .client import Client


def after_init(client: Client) -> None:
    """Run once at the end of init(); never raises."""
    try:
        notices.no_release(client)
        signal_exit.install(client)
        record = native_crashes.start(client)
        if client.options.debug:
            _describe(client, record)
        if record is not None:
            _report_left_records(client, os.path.dirname(record))
            _watch_forks()
    except Exception:
        internal_error("the checks after init() failed")


_fork_hook = False


def _watch_forks() -> None:
    """A forked child (a gunicorn worker or Celery prefork child restarted after a crash)
    reports the records left in its folder, as a new process would at init()."""
    global _fork_hook
    if not _fork_hook and hasattr(os, "register_at_fork"):
        _fork_hook = True
        os.register_at_fork(after_in_child=_after_fork_in_child)  # after native_crashes' own


def _after_fork_in_child() -> None:
    from . import current

    client = current.get_client()
    record = native_crashes._record_path
    if client is None or record is None or not client.active:
        return
    try:
        _report_left_records(client, os.path.dirname(record))
    except Exception:
        internal_error("reporting crash records in a forked child failed")


def _describe(client: Client, record: object) -> None:
    opts = client.options
    log = get_logger()
    where = f"{client.dsn.netloc} project {client.dsn.project_id}" if client.dsn else "none"
    log.debug("init: DSN %s, release %s, environment %s", where, opts.release, opts.environment)
    log.debug("init: integrations %s", ", ".join(sorted(client.integrations)) or "none")
    log.debug("init: spool %s; crash record %s", opts.spool_dir or "memory only", record or "off")


def _report_left_records(client: Client, folder: str) -> None:
    try:
        names = os.listdir(folder)
    except OSError:
        return
    mine = os.path.basename(native_crashes._record_path or "")
    suffix = native_crashes.RECORD_SUFFIX
    # a record, or the claim of one left by a claimer that died before removing it
    if not any(n != mine and (n.endswith(suffix) or suffix + ".claim-" in n) for n in names):
        return
    from . import crash_reports  # only when a record is there: reading one takes ms

    sent = crash_reports.report_pending(client, folder)
    if sent:
        get_logger().debug("reported %d crash record(s) from %s", sent, folder)
        crash_reports.settle_soon(client)
        _settle_at_exit(client)


_exit_hook = False


def _settle_at_exit(client: Client) -> None:
    """A process that ends before the thread is done settles at exit (before the transports
    close: atexit runs in reverse order of registration)."""
    global _exit_hook
    if not _exit_hook:
        import atexit

        from . import crash_reports

        _exit_hook = True
        atexit.register(
            lambda: crash_reports.settle(client, float(client.options.shutdown_timeout))
        )
