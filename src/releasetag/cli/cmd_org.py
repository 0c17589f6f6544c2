"""sentry-cli's remaining pipeline commands: ``info``, ``login``, ``organizations list``,
``projects list``, ``repos list``, ``issues list/resolve/mute/unresolve`` and ``events list``,
with its flags and exit codes. The token is never printed: ``info`` says whether the server
accepts it, ``login`` writes it to the rc file the configuration reads.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import sys
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from releasetag.protocol.errors import ReleasetagError, UsageError

from .apiargs import add_api_arguments, api_command, client_from_args, config_from_args
from .output import emit, safe, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from releasetag.build.webapi.client import ApiClient

ISSUE_STATUSES = {"resolved": "resolved", "muted": "ignored", "unresolved": "unresolved"}


def register(sub: Any) -> None:
    p = sub.add_parser("info", help="show the configuration and whether the token is accepted")
    p.add_argument(
        "--config-status-json", action="store_true", help="the configuration status as JSON"
    )
    p.add_argument(
        "--no-defaults", action="store_true", help="do not require an organization and project"
    )
    add_api_arguments(p, allow_failure=False)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("login", help="store an auth token in the rc file (checked first)")
    add_api_arguments(p, allow_failure=False)
    p.add_argument(
        "-g",
        "--global",
        dest="global_",
        action="store_true",
        help="accepted for sentry-cli; the token always goes to the home rc file",
    )
    p.set_defaults(func=cmd_login)

    for name, aliases, fill in (
        ("organizations", ["orgs"], _org_list),
        ("projects", [], _project_list),
        ("repos", [], _repo_list),
        ("events", [], _event_list),
    ):
        group = sub.add_parser(name, aliases=aliases, help=f"list {name} on the server")
        actions = group.add_subparsers(dest=f"{name}_command", metavar="ACTION")
        lp = actions.add_parser("list", help=f"list the {name}")
        add_api_arguments(lp, allow_failure=False)
        if name == "events":
            lp.add_argument("-U", "--show-user", action="store_true", help="show the user")
            lp.add_argument("-T", "--show-tags", action="store_true", help="show the tags")
            lp.add_argument("--max-rows", type=int, metavar="N", help="at most N rows")
        lp.set_defaults(func=fill)
        group.set_defaults(func=lambda args, g=group: _usage(g))

    issues = sub.add_parser("issues", help="list, resolve, mute or unresolve issues")
    actions = issues.add_subparsers(dest="issues_command", metavar="ACTION")
    for action in ("list", "resolve", "mute", "unresolve"):
        ap = actions.add_parser(action, help=f"{action} the selected issues")
        ap.add_argument("-s", "--status", choices=sorted(ISSUE_STATUSES), help="issues with it")
        ap.add_argument("-a", "--all", action="store_true", help="all issues (may be limited)")
        ap.add_argument(
            "-i",
            "--id",
            dest="ids",
            action="append",
            default=[],
            metavar="ID",
            help="the issue with this ID (repeatable)",
        )
        if action == "list":
            ap.add_argument("--max-rows", type=int, metavar="N", help="at most N rows")
            ap.add_argument("--pages", type=int, metavar="N", help="accepted for sentry-cli")
            ap.add_argument("--query", default="", metavar="QUERY", help="a search query")
        add_api_arguments(ap, allow_failure=False)
        ap.set_defaults(func=cmd_issues, action=action)
    issues.set_defaults(func=lambda args: _usage(issues))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _org_path(org: str) -> str:
    return f"/organizations/{quote(org, safe='')}/"


def _whoami(client: ApiClient) -> Optional[Dict[str, Any]]:
    """The API root's ``auth`` (None when the server does not accept the token)."""
    from releasetag.build.webapi.client import ApiError

    try:
        root = client.json("GET", "/", auth=True)
    except ApiError as exc:
        if exc.status in (401, 403):
            return None
        raise
    if not isinstance(root, dict) or not isinstance(root.get("auth"), dict):
        return None
    return {"auth": root["auth"], "user": root.get("user")}


def cmd_info(args: argparse.Namespace) -> int:
    from releasetag.build.webapi.client import ApiClient, ApiError

    cfg = config_from_args(args)
    who: Optional[Dict[str, Any]] = None
    problem = None
    if cfg.auth_token:
        try:
            who = _whoami(ApiClient(cfg))
        except (ApiError, ReleasetagError) as exc:
            problem = exc.message
    project = cfg.projects[0] if cfg.projects else None
    if args.config_status_json:
        data = {
            "config": {"org": cfg.org, "project": project, "url": cfg.url},
            "auth": {"type": "token" if cfg.auth_token else None, "successful": who is not None},
            "have_dsn": bool(os.environ.get("SENTRY_DSN")),
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    lines = [
        f"Sentry Server: {safe(cfg.url.rstrip('/'))}",
        f"Default Organization: {safe(cfg.org or '-')}",
        f"Default Project: {safe(project or '-')}",
        "",
        "Authentication Info:",
        f"  Method: {'Auth Token' if cfg.auth_token else 'Unauthorized'}",
    ]
    if who is not None:
        found = who.get("user")
        user: Dict[str, Any] = found if isinstance(found, dict) else {}
        lines.append(f"  User: {safe(user.get('email') or user.get('name') or '-')}")
        scopes = who["auth"].get("scopes") or []
        lines += ["  Scopes:"] + [f"    - {safe(s)}" for s in scopes]
    elif cfg.auth_token:
        lines.append(
            f"  Token: not accepted by the server{' (' + safe(problem) + ')' if problem else ''}"
        )
    missing = (
        []
        if args.no_defaults
        else [n for n, v in (("organization", cfg.org), ("project", project)) if not v]
    )
    if args.json:
        emit(
            args,
            {
                "url": cfg.url,
                "org": cfg.org,
                "project": project,
                "token": "accepted" if who else ("rejected" if cfg.auth_token else "missing"),
            },
        )
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if who is not None and not missing else 1


def _rc_path() -> str:
    """The home rc file the configuration reads first that exists, else ~/.sentryclirc (both
    tools read it)."""
    home = os.path.expanduser("~")
    for name in (".releasetagrc", ".sentryclirc"):
        path = os.path.join(home, name)
        if os.path.exists(path):
            return path
    return os.path.join(home, ".sentryclirc")


def cmd_login(args: argparse.Namespace) -> int:
    from releasetag.build.config import token_is_printable
    from releasetag.build.webapi.client import ApiClient

    token = getattr(args, "auth_token", None)
    if not token:
        if not sys.stdin.isatty():
            raise UsageError("login needs --auth-token TOKEN when no terminal can ask for it")
        import getpass

        token = getpass.getpass("Auth token (input hidden): ").strip()
    if not token or not token_is_printable(token):
        raise UsageError("that is not an auth token (empty, or with spaces or control characters)")
    args.auth_token = token
    cfg = config_from_args(args)
    if _whoami(ApiClient(cfg)) is None:
        raise ReleasetagError(f"the server at {cfg.url} does not accept that token: nothing stored")
    path = _rc_path()
    rc = configparser.RawConfigParser()
    rc.read(path, encoding="utf-8")
    if not rc.has_section("auth"):
        rc.add_section("auth")
    rc.set("auth", "token", token)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        rc.write(fh)
    os.chmod(path, 0o600)
    emit(args, {"rc": path, "stored": True}, f"Stored the auth token in {path}")
    return 0


@api_command
def _org_list(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    orgs = [o for o in client.list_all("/organizations/") if isinstance(o, dict)]
    rows = [(o.get("id"), o.get("name"), o.get("slug"), o.get("dateCreated")) for o in orgs]
    emit(args, orgs, table(["ID", "Name", "Slug", "Date Created"], rows))
    return 0


@api_command
def _project_list(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    org = client.config.require_org()
    items = [p for p in client.list_all(_org_path(org) + "projects/") if isinstance(p, dict)]
    rows = [
        (p.get("id"), p.get("slug"), (p.get("team") or {}).get("slug", "-"), p.get("name"))
        for p in items
    ]
    emit(args, items, table(["ID", "Slug", "Team", "Name"], rows))
    return 0


@api_command
def _repo_list(args: argparse.Namespace) -> int:
    from releasetag.build.webapi.repos import list_repos

    client = client_from_args(args)
    repos = [r for r in list_repos(client, client.config.require_org()) if isinstance(r, dict)]
    rows = [
        (r.get("name"), (r.get("provider") or {}).get("name"), r.get("url") or "-") for r in repos
    ]
    emit(args, repos, table(["Name", "Provider", "URL"], rows))
    return 0


def _project_path(client: ApiClient) -> str:
    cfg = client.config
    return f"/projects/{quote(cfg.require_org(), safe='')}/{quote(cfg.require_project(), safe='')}/"


@api_command
def _event_list(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    events = [e for e in client.list_all(_project_path(client) + "events/") if isinstance(e, dict)]
    if args.max_rows is not None:
        events = events[: max(args.max_rows, 0)]
    headers = ["Event ID", "Date", "Title"]
    rows: List[List[Any]] = []
    for e in events:
        row = [e.get("eventID") or e.get("id"), e.get("dateCreated"), e.get("title")]
        if args.show_user:
            row.append((e.get("user") or {}).get("email") or "-")
        if args.show_tags:
            row.append(", ".join(f"{t.get('key')}: {t.get('value')}" for t in e.get("tags") or []))
        rows.append(row)
    headers += (["User"] if args.show_user else []) + (["Tags"] if args.show_tags else [])
    emit(args, events, table(headers, rows))
    return 0


def _selection(args: argparse.Namespace) -> Optional[Dict[str, Any]]:
    """The query string selecting issues: ids, a status, or all (as sentry-cli)."""
    if args.ids:
        return {"id": args.ids}
    if args.status:
        return {"status": ISSUE_STATUSES[args.status]}
    if args.all or args.action == "list":
        return {}
    return None


@api_command
def cmd_issues(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    path = _project_path(client) + "issues/"
    params = _selection(args)
    if params is None:  # as sentry-cli: nothing selected is not an error
        emit(
            args,
            {"updated": False},
            "No changes requested: select issues with --id, --status or --all",
        )
        return 0
    if args.action == "list":
        query = " ".join(
            ([f"is:{params['status']}"] if "status" in params else []) + [args.query]
        ).strip()
        found = client.list_all(path, params={"query": query or "is:unresolved"})
        items = [i for i in found if isinstance(i, dict)]
        if args.ids:
            items = [
                i for i in items if str(i.get("id")) in args.ids or i.get("shortId") in args.ids
            ]
        if args.max_rows is not None:
            items = items[: max(args.max_rows, 0)]
        rows = [
            (i.get("id"), i.get("shortId"), i.get("title"), i.get("lastSeen"), i.get("status"))
            for i in items
        ]
        emit(args, items, table(["Issue ID", "Short ID", "Title", "Last seen", "Status"], rows))
        return 0
    # as sentry-cli sends it ("muted" is Sentry's older name for ignored; both accept it)
    status = {"resolve": "resolved", "mute": "muted", "unresolve": "unresolved"}[args.action]
    answer = client.json(
        "PUT", path, params=params, json={"status": status, "snoozeDuration": None}
    )
    emit(args, answer or {}, f"Updated matching issues.\n  new status: {status}")
    return 0
