"""``monitors run`` and ``monitors list``, with sentry-cli's flags and meanings.

``monitors run SLUG -- COMMAND...`` runs the command whatever happens to the server: its
output is its own, its exit status is passed through (a signal that ends it: 128 + the
signal's number, as a shell says), and it is reported as an ``in_progress`` check-in, then
``ok`` (exit 0) or ``error``. Check-ins the server did not take are kept in the SDK's disk
spool and sent first by the next run.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

from releasetag.protocol.errors import UsageError

from .apiargs import add_api_arguments, api_command, client_from_args
from .lazyparse import add_lazy
from .output import emit, safe, table, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

CLOSE_TIMEOUT = 3.0  # seconds the run waits for the server after the command; the rest spools
_NEEDS_SCHEDULE = (
    "checkin_margin",
    "max_runtime",
    "timezone",
    "failure_issue_threshold",
    "recovery_threshold",
)


def register(sub: Any) -> None:
    grp = sub.add_parser(
        "monitors",
        aliases=["monitor"],  # the new sentry CLI's spelling
        help="cron monitors: wrap a job in check-ins, list monitors",
    )
    grp.set_defaults(func=lambda args: (grp.print_help(sys.stderr), 2)[1])
    actions = grp.add_subparsers(dest="monitors_command", metavar="ACTION")
    add_lazy(actions, "run", _fill_run, help="run a command and report it to a cron monitor")
    add_lazy(actions, "list", _fill_list, help="list the organization's monitors")


def _minutes(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {number}")
    return number


def _fill_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("slug", metavar="MONITOR_SLUG", help="the monitor's slug")
    p.add_argument("-e", "--environment", default="production", help="default: production")
    p.add_argument("-s", "--schedule", metavar="CRONTAB", help="the monitor's crontab schedule")
    p.add_argument("--check-in-margin", dest="checkin_margin", type=_minutes, metavar="MIN")
    p.add_argument("--max-runtime", dest="max_runtime", type=_minutes, metavar="MIN")
    p.add_argument("--timezone", metavar="TZ", help="tz database name, e.g. Europe/Vienna")
    p.add_argument("--failure-issue-threshold", type=_minutes, metavar="N")
    p.add_argument("--recovery-threshold", type=_minutes, metavar="N")
    p.set_defaults(func=cmd_run, command=[])
    parse = p.parse_known_args

    def split_at_dashes(args: Any = None, namespace: Any = None) -> Any:
        """Everything after the first ``--`` is the command, untouched by argparse."""
        args = list(args or [])
        tail: List[str] = []
        if "--" in args:
            cut = args.index("--")
            args, tail = args[:cut], args[cut + 1 :]
        namespace, extras = parse(args, namespace)
        namespace.command = tail
        return namespace, extras

    p.parse_known_args = split_at_dashes  # type: ignore[method-assign]
    p.usage = "releasetag monitors run [OPTIONS] MONITOR_SLUG -- COMMAND [ARGS...]"


def monitor_config(args: argparse.Namespace) -> Optional[Dict[str, Any]]:
    """The ``monitor_config`` the flags describe (None without ``--schedule``); a bad crontab
    or timezone is a usage error naming it."""
    if args.schedule is None:
        given = [name for name in _NEEDS_SCHEDULE if getattr(args, name) is not None]
        if given:
            flag = "--" + given[0].replace("_", "-").replace("checkin", "check-in")
            raise UsageError(f"{flag} requires --schedule")
        return None
    from releasetag.protocol.schedule import crontab_error, timezone_error

    reason = crontab_error(args.schedule)
    if reason:
        raise UsageError(f"invalid crontab for --schedule {args.schedule!r}: {reason}")
    if args.timezone is not None:
        reason = timezone_error(args.timezone)
        if reason:
            raise UsageError(f"invalid --timezone {args.timezone!r}: {reason}")
    config: Dict[str, Any] = {"schedule": {"type": "crontab", "value": args.schedule}}
    for name in _NEEDS_SCHEDULE:
        if getattr(args, name) is not None:
            config[name] = getattr(args, name)
    return config


def find_dsn(environ: Any = os.environ) -> Optional[str]:
    """The DSN as sentry-cli finds it: ``SENTRY_DSN`` (``RELEASETAG_DSN`` first), else
    ``[auth] dsn`` in ``.releasetagrc`` / ``.sentryclirc`` (nearest folder, then home)."""
    for name in ("RELEASETAG_DSN", "SENTRY_DSN"):
        if environ.get(name):
            return str(environ[name])
    import configparser

    from releasetag.build.config import find_rc_files

    for path in find_rc_files():
        ini = configparser.ConfigParser(interpolation=None)
        try:
            ini.read(path, encoding="utf-8")
        except (OSError, configparser.Error, UnicodeDecodeError):
            continue
        if ini.get("auth", "dsn", fallback=None):
            return ini.get("auth", "dsn")
    return None


def spool_dir() -> str:
    """Where unsent check-ins wait: ``RELEASETAG_SPOOL_DIR``, else the user's cache folder."""
    if os.environ.get("RELEASETAG_SPOOL_DIR"):
        return os.environ["RELEASETAG_SPOOL_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "releasetag", "check-ins")


class _Reporter:
    """Check-ins of one run through the SDK's transport (queue, retries, spool)."""

    def __init__(self, args: argparse.Namespace, config: Optional[Dict[str, Any]]) -> None:
        self.slug = args.slug
        self.environment = args.environment
        self.config = config
        self.release = os.environ.get("RELEASETAG_RELEASE") or os.environ.get("SENTRY_RELEASE")
        self.check_in_id = os.urandom(16).hex()
        self.transport: Any = None
        dsn = find_dsn()
        if not dsn:
            warn("no DSN (set SENTRY_DSN or [auth] dsn in .sentryclirc): running without check-ins")
            return
        try:
            self.transport = _transport(dsn)
        except Exception as exc:  # a bad DSN or spool folder must not stop the job
            warn(f"check-ins are off: {safe(exc)}")

    def send(self, status: str, duration: Optional[float] = None) -> None:
        if self.transport is None:
            return
        from releasetag.protocol.envelope import Envelope, Item

        payload: Dict[str, Any] = {
            "check_in_id": self.check_in_id,
            "monitor_slug": self.slug,
            "status": status,
            "environment": self.environment,
        }
        if self.release:
            payload["release"] = self.release
        if self.config and status == "in_progress":  # as sentry-cli: the config once a run
            payload["monitor_config"] = self.config
        if duration is not None:
            payload["duration"] = duration
        item = Item({"type": "check_in"}, _json(payload))
        self.transport.send_envelope(Envelope({}, [item]))

    def close(self) -> None:
        """Wait for the server a while; a server that already failed is not waited for
        (what is left goes to the spool at once, for the next run)."""
        transport = self.transport
        if transport is None:
            return
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while not transport.is_idle() and time.monotonic() < deadline:
            last = transport.last_send_result()
            if last is not None and not last.ok:
                break  # the server is away: no retries now, the spool keeps them
            time.sleep(0.005)
        transport.close(0.1)


def _transport(dsn: str) -> Any:
    """The SDK's HTTP transport (queue, retries, rate limits, disk spool) for ``dsn``, made
    without a client: a check-in of ``monitors run`` needs no release detection (git)."""
    from releasetag.options import resolve_options
    from releasetag.protocol.dsn import Dsn
    from releasetag.transport.http_transport import HttpTransport

    parsed = Dsn.parse(dsn)  # ValueError with the reason
    options = resolve_options("", spool_dir=spool_dir())  # no DSN here: nothing detected
    options.dsn = dsn
    return HttpTransport(options, parsed)


def _json(payload: Dict[str, Any]) -> bytes:
    import json

    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _run_child(command: List[str]) -> int:
    """Run ``command``; its return code (negative: the signal that ended it). Signals this
    process gets while it runs are passed on to it."""
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        warn(f"could not run {safe(command[0])}: {safe(exc.strerror or exc)}")
        return 127 if isinstance(exc, FileNotFoundError) else 126

    def forward(signum: int, _frame: Any) -> None:
        try:
            child.send_signal(signum)
        except OSError:
            pass

    previous = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, forward)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # pragma: no cover - the handler above takes SIGINT
                continue
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def cmd_run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if not command:
        raise UsageError("no command to run: monitors run SLUG -- COMMAND [ARGS...]")
    config = monitor_config(args)
    reporter = _Reporter(args, config)
    reporter.send("in_progress")
    start = time.perf_counter()
    code = _run_child(command)
    duration = time.perf_counter() - start
    reporter.send("ok" if code == 0 else "error", duration)
    reporter.close()
    return 128 - code if code < 0 else code


def _fill_list(p: argparse.ArgumentParser) -> None:
    add_api_arguments(p, allow_failure=False)
    p.set_defaults(func=cmd_list)


@api_command
def cmd_list(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    org = client.config.require_org()
    items = [
        m
        for m in client.list_all(f"/organizations/{quote(org, safe='')}/monitors/")
        if isinstance(m, dict)
    ]
    rows = [
        (m.get("id") or "", m.get("slug") or "", m.get("name") or "", m.get("status") or "")
        for m in items
    ]
    text = table(["ID", "Slug", "Name", "Status"], rows) if items else "No monitors found"
    emit(args, items, text)
    return 0
