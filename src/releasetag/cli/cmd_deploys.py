"""Deploys: ``releasetag deploys new|list --release VERSION`` and (from cmd_releases)
``releasetag releases deploys VERSION new|list`` - the form the Sentry releases docs use."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone

from releasetag.build.webapi import deploys as api
from releasetag.protocol.errors import UsageError
from releasetag.protocol.timefmt import now_wire, parse_time_opt, to_wire

from .apiargs import add_api_arguments, add_config_flags, api_command, client_from_args, release_arg
from .lazyparse import add_lazy
from .output import emit, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

MAX_ENVIRONMENT = 64


def register(sub: Any) -> None:
    grp = sub.add_parser("deploys", help="record or list deploys of a release")
    add_config_flags(grp)
    grp.set_defaults(func=lambda args: (grp.print_help(sys.stderr), 2)[1])
    actions = grp.add_subparsers(dest="deploys_command", metavar="ACTION")
    add_lazy(actions, "new", _fill_new, help="record a deploy of a release")
    add_lazy(actions, "list", _fill_list, help="list the deploys of a release")


def _fill_new(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-r",
        "--release",
        dest="version",
        required=True,
        metavar="VERSION",
        help="the release that was deployed",
    )
    add_new_arguments(p)
    add_api_arguments(p, server_url=False)
    p.set_defaults(func=cmd_new)


def _fill_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("-r", "--release", dest="version", required=True, metavar="VERSION")
    add_api_arguments(p)
    p.set_defaults(func=cmd_list)


def add_new_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``deploys new`` (shared with ``releases deploys VERSION new``)."""
    p.add_argument(
        "-e",
        "--env",
        dest="environment",
        required=True,
        metavar="ENV",
        help="the environment deployed to (e.g. production)",
    )
    p.add_argument("-n", "--name", metavar="NAME", help="a name for this deploy")
    p.add_argument(
        "-u",
        "--url",
        dest="deploy_url",
        metavar="URL",
        help="a link to this deploy (e.g. the CI job)",
    )
    p.add_argument(
        "-t",
        "--time",
        type=_seconds,
        metavar="SECONDS",
        help="the deploy took this many seconds, ending now",
    )
    p.add_argument("--started", metavar="TIME", help="start (unix seconds or ISO 8601)")
    p.add_argument("--finished", metavar="TIME", help="end (unix seconds or ISO 8601)")


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {value!r}") from None
    if seconds < 0 or seconds != seconds:
        raise argparse.ArgumentTypeError(f"seconds must not be negative: {value!r}")
    return seconds


def environment_error(name: str) -> str:
    """Why ``name`` is not a valid environment name ('' when it is)."""
    if not name or name != name.strip():
        return "it must not be empty or start/end with whitespace"
    if "/" in name:
        return "it must not contain '/'"
    if any(ch in name for ch in "\n\r\t\x0b\x0c"):
        return "it must not contain a newline or tab"
    if len(name) > MAX_ENVIRONMENT:
        return f"it must be at most {MAX_ENVIRONMENT} characters (got {len(name)})"
    return ""


@api_command
def cmd_new(args: argparse.Namespace) -> int:
    version = release_arg(args.version)
    err = environment_error(args.environment)
    if err:
        raise UsageError(f"invalid environment {args.environment!r}: {err}")
    started = parse_time_opt(args.started, "--started")
    finished = parse_time_opt(args.finished, "--finished")
    if args.time is not None and (started or finished):
        raise UsageError("use either -t/--time or --started/--finished, not both")
    if started and finished and finished < started:
        raise UsageError("--finished is before --started")
    if args.time is not None:
        now = datetime.now(timezone.utc)
        date_started: Optional[str] = to_wire(now - timedelta(seconds=args.time))
        date_finished = to_wire(now)
    else:
        date_started = to_wire(started) if started else None
        date_finished = to_wire(finished) if finished else now_wire()
    client = client_from_args(args)
    data = api.new_deploy(
        client,
        client.config.require_org(),
        version,
        args.environment,
        name=args.name,
        url=args.deploy_url,
        date_started=date_started,
        date_finished=date_finished,
    )
    label = f" {args.name}" if args.name else ""
    emit(
        args,
        {"version": version, "deploy": data},
        f"Created deploy{label} of {version} to {args.environment}",
    )
    return 0


@api_command
def cmd_list(args: argparse.Namespace) -> int:
    version = release_arg(args.version)
    client = client_from_args(args)
    items = [
        d
        for d in api.list_deploys(client, client.config.require_org(), version)
        if isinstance(d, dict)
    ]
    rows = [
        (
            d.get("environment"),
            d.get("name") or "",
            d.get("dateStarted") or "",
            d.get("dateFinished") or "",
        )
        for d in items
    ]
    text = (
        table(["Environment", "Name", "Started", "Finished"], rows) if items else "No deploys found"
    )
    emit(args, items, text)
    return 0
