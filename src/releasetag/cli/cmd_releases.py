"""``releasetag releases ...``: new, finalize, archive, restore, list, info, health, delete,
set-commits, propose-version and ``deploys VERSION new|list`` (sentry-cli's names and flags)."""

from __future__ import annotations

import argparse
import sys

from releasetag.build.webapi import releases as api
from releasetag.detect import release as detection
from releasetag.protocol.errors import UsageError
from releasetag.protocol.timefmt import now_wire

from .apiargs import add_api_arguments, add_config_flags, api_command, client_from_args, release_arg
from .lazyparse import add_lazy
from .output import emit, safe, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List


def _version_arg(p: argparse.ArgumentParser, optional: bool = False) -> None:
    if optional:
        p.add_argument(
            "version",
            nargs="?",
            metavar="VERSION",
            help="release name (default: detected like propose-version)",
        )
    else:
        p.add_argument("version", metavar="VERSION", help="release name")


def register(sub: Any) -> None:
    rel = sub.add_parser(
        "releases",
        aliases=["release"],
        help="manage releases on the server (sentry-cli compatible)",
    )
    add_config_flags(rel)
    rel.set_defaults(func=lambda args: _group_help(rel))
    actions = rel.add_subparsers(dest="releases_command", metavar="ACTION")
    add_lazy(actions, "new", _fill_new, help="create a release (idempotent)")
    add_lazy(actions, "finalize", _fill_finalize, help="mark a release as released")
    add_lazy(actions, "archive", _status_filler("archived"), help="archive release")
    add_lazy(actions, "restore", _status_filler("open"), help="restore an archived release")
    add_lazy(actions, "list", _fill_list, help="list releases (of the project when one is set)")
    add_lazy(actions, "info", _fill_info, help="show one release")
    add_lazy(
        actions,
        "health",
        _fill_health,
        help="the health gate: exit 3 when a crash-free or issue threshold is breached",
        description="Check a release's health since its last deploy (or over --window) "
        "against thresholds. Exit 0: every threshold holds; 3: one is breached; 4: too "
        "few sessions for a verdict; 1: an error.",
    )
    add_lazy(actions, "verify", _fill_verify, help="check the running release is the one built")
    add_lazy(actions, "delete", _fill_delete, help="delete a release")
    add_lazy(actions, "set-commits", _fill_set_commits, help="associate commits with a release")
    add_lazy(
        actions,
        "propose-version",
        _fill_propose_version,
        help="print the release the runtime would report",
    )
    add_lazy(actions, "deploys", _fill_deploys, help="record or list deploys of a release")
    add_lazy(actions, "deploy", _fill_deploy, help="record a deploy: ENV [NAME] (sentry CLI)")


def _fill_new(p: argparse.ArgumentParser) -> None:
    _version_arg(p, optional=True)
    p.add_argument("--finalize", action="store_true", help="also mark it released now")
    p.add_argument(
        "--url",
        dest="release_url",
        metavar="URL",
        help="a link to this release (changelog, tag page); the server URL goes "
        "before the command here: releasetag --url SERVER releases new ...",
    )
    add_api_arguments(p, server_url=False)
    p.set_defaults(func=cmd_new)


def _fill_finalize(p: argparse.ArgumentParser) -> None:
    _version_arg(p)
    p.add_argument(
        "--released", metavar="TIME", help="release time (unix seconds or ISO 8601; default: now)"
    )
    add_api_arguments(p)
    p.set_defaults(func=cmd_finalize)


def _status_filler(status: str) -> Any:
    def fill(p: argparse.ArgumentParser) -> None:
        _version_arg(p)
        add_api_arguments(p)
        p.set_defaults(func=cmd_status, status=status, verb=p.prog.rsplit(" ", 1)[-1])

    return fill


def _fill_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("-R", "--raw", action="store_true", help="only the versions, one a line")
    p.add_argument("-D", "--delimiter", default="\n", metavar="TEXT", help="between --raw versions")
    p.add_argument("-P", "--show-projects", action="store_true", help="a Projects column")
    add_api_arguments(p)
    p.set_defaults(func=cmd_list)


def _fill_info(p: argparse.ArgumentParser) -> None:
    _version_arg(p)
    p.add_argument("--show-commits", action="store_true", help="also list its commits")
    add_api_arguments(p)
    p.set_defaults(func=cmd_info)


def _fill_health(p: argparse.ArgumentParser) -> None:
    from . import cmd_health

    cmd_health.add_arguments(p)


def _fill_verify(p: argparse.ArgumentParser) -> None:
    from . import cmd_verify

    cmd_verify.add_arguments(p)


def _fill_deploy(p: argparse.ArgumentParser) -> None:
    from . import cmd_aliases

    cmd_aliases.fill_deploy(p)


def _fill_delete(p: argparse.ArgumentParser) -> None:
    _version_arg(p)
    add_api_arguments(p)
    p.set_defaults(func=cmd_delete)


def _fill_set_commits(p: argparse.ArgumentParser) -> None:
    from . import set_commits

    _version_arg(p)
    set_commits.add_arguments(p)
    add_api_arguments(p)
    p.set_defaults(func=set_commits.cmd_set_commits)


def _fill_propose_version(p: argparse.ArgumentParser) -> None:
    from .cmd_runtime import add_propose_version_arguments, cmd_propose_version

    add_propose_version_arguments(p)
    p.set_defaults(func=cmd_propose_version)


def _fill_deploys(p: argparse.ArgumentParser) -> None:
    from . import cmd_deploys

    _version_arg(p)
    add_config_flags(p)
    p.set_defaults(func=lambda args: _group_help(p))
    dsub = p.add_subparsers(dest="deploys_command", metavar="ACTION")

    def fill_new(d: argparse.ArgumentParser) -> None:
        cmd_deploys.add_new_arguments(d)
        add_api_arguments(d, server_url=False)
        d.set_defaults(func=cmd_deploys.cmd_new)

    def fill_list(d: argparse.ArgumentParser) -> None:
        add_api_arguments(d)
        d.set_defaults(func=cmd_deploys.cmd_list)

    add_lazy(dsub, "new", fill_new, help="record a deploy of VERSION")
    add_lazy(dsub, "list", fill_list, help="list the deploys of VERSION")


def _group_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


@api_command
def cmd_new(args: argparse.Namespace) -> int:
    version = args.version
    if version is None:
        found = detection.detect_release_source()
        if not found:
            raise UsageError(
                "no VERSION given and none detected: pass one, or set "
                "RELEASETAG_RELEASE (see `releasetag propose-version`)"
            )
        version = found.release
    release_arg(version)
    client = client_from_args(args)
    cfg = client.config
    org = cfg.require_org()
    cfg.require_project()
    now = now_wire()
    data, created = api.new_release(
        client,
        org,
        version,
        cfg.projects,
        url=args.release_url,
        date_started=now,
        date_released=now if args.finalize else None,
    )
    text = f"Created release {version}" if created else f"Release {version} already exists"
    if args.finalize:
        text += " (finalized)"
    emit(
        args,
        {"version": version, "created": created, "finalized": bool(args.finalize), "release": data},
        text,
    )
    return 0


@api_command
def cmd_finalize(args: argparse.Namespace) -> int:
    from releasetag.protocol.timefmt import parse_time, to_wire

    version = release_arg(args.version)
    released = to_wire(parse_time(args.released, "--released")) if args.released else now_wire()
    client = client_from_args(args)
    cfg = client.config
    body: Dict[str, Any] = {"projects": list(cfg.projects), "dateReleased": released}
    data = api.update_release(client, cfg.require_org(), version, body)
    emit(
        args,
        {"version": version, "dateReleased": released, "release": data},
        f"Finalized release {version}",
    )
    return 0


@api_command
def cmd_status(args: argparse.Namespace) -> int:
    version = release_arg(args.version)
    client = client_from_args(args)
    data = api.set_status(client, client.config.require_org(), version, args.status)
    past = {"archive": "Archived", "restore": "Restored"}[args.verb]
    emit(
        args,
        {"version": version, "status": args.status, "release": data},
        f"{past} release {version}",
    )
    return 0


def _projects_of(rel: Dict[str, Any]) -> str:
    return ", ".join(p.get("slug", "") for p in rel.get("projects") or [] if isinstance(p, dict))


@api_command
def cmd_list(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    cfg = client.config
    items: List[Dict[str, Any]] = [
        r for r in api.list_releases(client, cfg.require_org(), cfg.project) if isinstance(r, dict)
    ]
    if args.raw and not args.json:
        sys.stdout.write(args.delimiter.join(safe(r.get("version")) for r in items) + "\n")
        return 0
    rows = [
        (
            r.get("version"),
            r.get("dateCreated"),
            r.get("dateReleased") or "(unreleased)",
            r.get("newGroups"),
            r.get("lastEvent") or "",
        )
        + ((_project_names(r),) if args.show_projects else ())
        for r in items
    ]
    headers = ["Version", "Created", "Released", "New issues", "Last event"]
    text = (
        table(headers + (["Projects"] if args.show_projects else []), rows)
        if items
        else "No releases found"
    )
    emit(args, items, text)
    return 0


def _project_names(release: Dict[str, Any]) -> str:
    return ", ".join(
        str(p.get("slug") or p.get("name"))
        for p in release.get("projects") or []
        if isinstance(p, dict)
    )


@api_command
def cmd_info(args: argparse.Namespace) -> int:
    version = release_arg(args.version)
    client = client_from_args(args)
    org = client.config.require_org()
    data = api.get_release(client, org, version) or {}
    commits = api.release_commits(client, org, version) if args.show_commits else None
    last_commit = (
        (data.get("lastCommit") or {}).get("id")
        if isinstance(data.get("lastCommit"), dict)
        else None
    )
    fields = [
        ("Version", data.get("version", version)),
        ("Created", data.get("dateCreated") or ""),
        ("Released", data.get("dateReleased") or "(unreleased)"),
        ("Projects", _projects_of(data)),
        ("URL", data.get("url") or ""),
        ("Last event", data.get("lastEvent") or ""),
        ("New issues", data.get("newGroups") if data.get("newGroups") is not None else ""),
        ("Last commit", last_commit or ""),
    ]
    lines = [f"{label + ':':<15}{safe(value)}" for label, value in fields]
    if commits is not None:
        rows = [
            (
                str(c.get("id", ""))[:12],
                (c.get("repository") or {}).get("name", "")
                if isinstance(c.get("repository"), dict)
                else c.get("repository", ""),
                (c.get("author") or {}).get("email", "")
                if isinstance(c.get("author"), dict)
                else "",
                (c.get("message") or "").split("\n", 1)[0][:60],
            )
            for c in commits
            if isinstance(c, dict)
        ]
        lines += [
            "",
            table(["Commit", "Repository", "Author", "Message"], rows) if rows else "No commits",
        ]
    from . import cmd_health

    health_rows, health_text = cmd_health.health_section(client, org, version)
    lines += ["", health_text]
    out = dict(data)
    out["health"] = health_rows
    if commits is not None:
        out["commits"] = commits
    emit(args, out, "\n".join(line.rstrip() for line in lines))
    return 0


@api_command
def cmd_delete(args: argparse.Namespace) -> int:
    version = release_arg(args.version)
    client = client_from_args(args)
    api.delete_release(client, client.config.require_org(), version)
    emit(args, {"version": version, "deleted": True}, f"Deleted release {version}")
    return 0


__all__ = ["register", "release_arg"]
