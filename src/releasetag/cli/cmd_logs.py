"""``releasetag logs list [--query Q] [--max-rows N] [--live] [--poll-interval S]``: the logs
of a project, newest first, as sentry-cli 3.8.2 lists them, from the collector or from
Sentry's API (``GET /api/0/organizations/{org}/events/?dataset=logs``)."""

from __future__ import annotations

import argparse
import sys
import time

from releasetag.protocol.errors import UsageError

from .apiargs import add_api_arguments, api_command, client_from_args
from .lazyparse import add_lazy
from .output import emit, safe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, List, Sequence, Set

FIELDS = ("sentry.item_id", "trace", "severity", "timestamp", "message")
HEADERS = ("Item ID", "Timestamp", "Severity", "Message", "Trace")
MAX_ROWS = 1000


def register(sub: Any) -> None:
    grp = sub.add_parser("logs", help="list the logs of a project (Sentry Logs)")
    grp.set_defaults(func=lambda args: (grp.print_help(sys.stderr), 2)[1])
    actions = grp.add_subparsers(dest="logs_command", metavar="ACTION")
    add_lazy(actions, "list", _fill_list, help="list logs, newest first (or follow with --live)")


def _rows(value: str) -> int:
    try:
        rows = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of rows: {value!r}") from None
    if not 1 <= rows <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"--max-rows must be between 1 and {MAX_ROWS}")
    return rows


def _interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid poll interval: {value!r}") from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise argparse.ArgumentTypeError("--poll-interval must be a number of seconds > 0")
    return seconds


def _fill_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--query", default="", metavar="QUERY", help='filter, e.g. "severity:error"')
    p.add_argument(
        "--max-rows", type=_rows, default=100, metavar="N", help="at most N logs (max 1000)"
    )
    p.add_argument("--live", action="store_true", help="keep polling and print new logs")
    p.add_argument(
        "--poll-interval",
        type=_interval,
        default=2.0,
        metavar="SECONDS",
        help="seconds between polls with --live (default 2)",
    )
    add_api_arguments(p, allow_failure=False)
    p.set_defaults(func=cmd_list)


def fetch(client: Any, org: str, project: str, query: str, rows: int, period: str) -> List[Any]:
    """One request for the newest ``rows`` logs matching ``query`` in ``project``."""
    params: List[Any] = [("dataset", "logs")]
    params += [("field", f) for f in FIELDS]
    params += [
        ("query", f"project:{project} {query}".strip()),
        ("per_page", str(rows)),
        ("statsPeriod", period),
        ("sort", "-timestamp"),
    ]
    answer = client.json("GET", f"/organizations/{org}/events/", params=params)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        from releasetag.protocol.errors import ReleasetagError

        raise ReleasetagError("the server's answer has no list of logs (data)")
    return [d for d in data if isinstance(d, dict)]


def _cell(log: Dict[str, Any], field: str) -> str:
    value = log.get(field)
    return "" if value is None else safe(value)


def box(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table framed with ``+---+`` and ``|``, as sentry-cli prints one."""
    rows = list(rows)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "|" + "|".join(f" {c:<{w}} " for c, w in zip(cells, widths)) + "|"

    return "\n".join([rule, line(headers), rule, *(line(r) for r in rows), rule])


@api_command
def cmd_list(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    org = client.config.require_org()
    project = client.config.require_project()
    if args.live:
        return _live(args, client, org, project)
    logs = fetch(client, org, project, args.query, args.max_rows, "90d")
    if getattr(args, "json", False):
        emit(args, logs)
        return 0
    if not logs:
        print("No logs found")
        return 0
    rows = [[_cell(log, f) for f in ("sentry.item_id", "timestamp", "severity", "message", "trace")]
            for log in logs]  # fmt: skip
    sys.stdout.write(box(HEADERS, rows) + "\n")
    return 0


def _live(args: argparse.Namespace, client: Any, org: str, project: str) -> int:
    if args.poll_interval <= 0:
        raise UsageError("--poll-interval must be > 0")
    print("Starting live log streaming...")
    print(f"Polling every {args.poll_interval:g} seconds. Press Ctrl+C to stop.", flush=True)
    seen: Set[str] = set()
    try:
        while True:
            logs = fetch(client, org, project, args.query, args.max_rows, "10m")
            for log in reversed(logs):  # oldest of the new ones first
                item_id = str(log.get("sentry.item_id"))
                if item_id in seen:
                    continue
                seen.add(item_id)
                parts = [_cell(log, f) for f in ("timestamp", "severity", "trace", "message")]
                sys.stdout.write(" | ".join(parts) + "\n")
            sys.stdout.flush()
            if len(seen) > 100_000:  # keep memory bounded on a long stream
                seen = {str(log.get("sentry.item_id")) for log in logs}
            time.sleep(args.poll_interval)
    except KeyboardInterrupt:
        return 0
