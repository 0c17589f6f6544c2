"""What init() does after the client is set up, so that nothing is lost or silent:

- says on stderr when no release was found (``notices.py``);
- with ``debug=True``, states the set-up (DSN host and project, release, environment,
  integrations, spool and crash folders) on the debug log, which debug mode shows on stderr;
- opens this process's crash record (``native_crashes.py``) and reports the records left by
  processes that crashed (``crash_reports.py``) right away, so that a short-lived next
  process sends them with its first flush; the folder is only listed when empty.
"""

from __future__ import annotations

import os

from . import native_crashes, notices
from .protocol.log import get_logger, internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .client import Client


def after_init(client: Client) -> None:
    """Run once at the end of init(); never raises."""
    try:
        notices.no_release(client)
        record = native_crashes.start(client)
        if client.options.debug:
            _describe(client, record)
        if record is not None:
            _report_left_records(client, os.path.dirname(record))
    except Exception:
        internal_error("the checks after init() failed")


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
    if not any(n.endswith(native_crashes.RECORD_SUFFIX) and n != mine for n in names):
        return
    from . import crash_reports  # only when a record is there: reading one takes ms

    sent = crash_reports.report_pending(client, folder)
    if sent:
        get_logger().debug("reported %d crash record(s) from %s", sent, folder)
