"""``releasetag releases health VERSION``: the release health gate a deploy pipeline runs
after a canary, and the health section of ``releases info``.

Exit codes: 0 every threshold holds, 3 a threshold is breached (one line per breach),
4 too few sessions for a verdict, 1 errors (as every command), 2 usage errors. Only the
Sessions, deploys, releases and issues APIs are used, so it works against Sentry too.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from releasetag.build.webapi import health_queries as api
from releasetag.build.webapi import releases as releases_api
from releasetag.build.webapi.client import ApiClient, ApiError
from releasetag.build.webapi.deploys import list_deploys
from releasetag.protocol import session_fields as wire
from releasetag.protocol.errors import UsageError
from releasetag.protocol.timefmt import parse_time, to_wire

from .apiargs import add_api_arguments, client_from_args, release_arg
from .output import emit, safe, table

PASS, BREACH, NO_VERDICT = 0, 3, 4
MIN_SESSIONS_FLOOR = 20
THRESHOLD_FLAGS = (
    "--min-crash-free-sessions",
    "--min-crash-free-users",
    "--max-new-issues",
    "--max-regressions",
)


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (0 to 100)") from None
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (0 to 100)")
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative whole number")
    return int(text)


def _duration(text: str) -> int:
    try:
        return wire.parse_period(text, "--window")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("invalid --window ", "")) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", metavar="VERSION", help="release name")
    p.add_argument("-e", "--env", metavar="ENV", help="one environment (default: all)")
    p.add_argument(
        "--min-crash-free-sessions",
        type=_percent,
        metavar="PCT",
        help="fail below this share of sessions that did not crash (e.g. 99.5)",
    )
    p.add_argument(
        "--min-crash-free-users",
        type=_percent,
        metavar="PCT",
        help="fail below this share of users whose sessions did not crash",
    )
    p.add_argument(
        "--max-new-issues", type=_count, metavar="N", help="fail above N issues new in it"
    )
    p.add_argument(
        "--max-regressions", type=_count, metavar="N", help="fail above N regressed issues"
    )
    p.add_argument(
        "--min-sessions",
        type=_count,
        metavar="N",
        help="exit 4 (no verdict) below N sessions in the window (default: with a crash-free "
        "threshold T, the fewest sessions in which one crash still passes, 100/(100-T) "
        f"rounded up, at least {MIN_SESSIONS_FLOOR}: 200 for 99.5; without one, 0)",
    )
    window = p.add_mutually_exclusive_group()
    window.add_argument(
        "--since-deploy",
        action="store_true",
        help="the window starts at the release's last deploy to ENV, or its creation (the default)",
    )
    window.add_argument(
        "--window",
        type=_duration,
        metavar="DURATION",
        help="the window is the last DURATION instead (30m, 2h, 1d)",
    )
    add_api_arguments(p, allow_failure=False)
    p.set_defaults(func=cmd_health)


def _window_start(
    client: ApiClient, org: str, version: str, env: Optional[str], window: Optional[int]
) -> Tuple[datetime, str]:
    now = datetime.now(timezone.utc)
    if window is not None:
        return datetime.fromtimestamp(now.timestamp() - window, timezone.utc), "window"
    finished = []
    for deploy in list_deploys(client, org, version):
        if not isinstance(deploy, dict) or not deploy.get("dateFinished"):
            continue
        if env is not None and deploy.get("environment") != env:
            continue
        try:
            finished.append(parse_time(str(deploy["dateFinished"]), "dateFinished"))
        except UsageError:
            continue
    if finished:
        return max(finished), "deploy"
    release = releases_api.get_release(client, org, version) or {}
    try:
        return parse_time(str(release.get("dateCreated")), "dateCreated"), "created"
    except UsageError:
        raise ApiError(f"release {version!r} has no creation date on the server") from None


def _pct(rate: Any) -> Optional[float]:
    return None if rate is None else round(float(rate) * 100.0, 4)


def _show(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def default_min_sessions(thresholds: List[Optional[float]]) -> int:
    """``--min-sessions`` when not given: below 100/(100-T) sessions a single crash breaches
    the strictest crash-free threshold T, so a verdict would say nothing; never fewer than
    ``MIN_SESSIONS_FLOOR``; 0 without a crash-free threshold (issue counts need no sessions)."""
    given = [t for t in thresholds if t is not None]
    if not given:
        return 0
    gap = 100.0 - max(given)
    needed = math.ceil(round(100.0 / gap, 6)) if gap > 0 else 0
    return max(MIN_SESSIONS_FLOOR, needed)


def require_threshold(args: argparse.Namespace) -> None:
    """No threshold flag: a gate without a policy would always pass, so refuse (exit 2)."""
    if all(getattr(args, f[2:].replace("-", "_")) is None for f in THRESHOLD_FLAGS):
        raise UsageError(
            "releases health needs at least one threshold: " + ", ".join(THRESHOLD_FLAGS)
        )


def evaluate(args: argparse.Namespace, figures: Dict[str, Any]) -> Tuple[int, List[str]]:
    """The verdict for ``figures``: (exit code, one line per breach or missing figure)."""
    rate_checks = [
        ("crash-free sessions", "crash_free_sessions", args.min_crash_free_sessions, "session"),
        ("crash-free users", "crash_free_users", args.min_crash_free_users, "user"),
    ]
    min_sessions = args.min_sessions
    if min_sessions is None:
        min_sessions = default_min_sessions([check[2] for check in rate_checks])
    if figures["sessions"] < min_sessions:
        return NO_VERDICT, [
            f"no verdict: {figures['sessions']} session(s) in the window, fewer than "
            f"--min-sessions {min_sessions}"
        ]
    missing = [
        f"no verdict: no {noun} data for the {name} threshold"
        for name, key, threshold, noun in rate_checks
        if threshold is not None and figures[key] is None
    ]
    if missing:
        return NO_VERDICT, missing
    breaches = []
    for name, key, threshold, _noun in rate_checks:
        if threshold is not None and figures[key] < threshold:
            breaches.append(
                f"{name} {_show(figures[key])} is below the threshold {_show(threshold)}"
            )
    for name, key, limit in (
        ("new issues", "new_issues", args.max_new_issues),
        ("regressions", "regressions", args.max_regressions),
    ):
        if limit is not None and figures[key] > limit:
            breaches.append(f"{name} {figures[key]} is above the threshold {limit}")
    return (BREACH if breaches else PASS), breaches


def cmd_health(args: argparse.Namespace) -> int:
    version = release_arg(args.version)
    require_threshold(args)
    client = client_from_args(args)
    cfg = client.config
    org = cfg.require_org()
    project = api.project_id(client, org, cfg.project) if cfg.project else None
    start, source = _window_start(client, org, version, args.env, args.window)
    end = datetime.now(timezone.utc)
    answer = api.sessions(
        client,
        org,
        fields=(
            wire.FIELD_SESSIONS,
            wire.FIELD_USERS,
            wire.FIELD_CRASH_FREE_SESSIONS,
            wire.FIELD_CRASH_FREE_USERS,
        ),
        release=version,
        environment=args.env,
        project=project,
        start=start,
        end=end,
    )
    totals = api.totals(answer)
    figures: Dict[str, Any] = {
        "sessions": int(totals.get(wire.FIELD_SESSIONS) or 0),
        "users": int(totals.get(wire.FIELD_USERS) or 0),
        "crash_free_sessions": _pct(totals.get(wire.FIELD_CRASH_FREE_SESSIONS)),
        "crash_free_users": _pct(totals.get(wire.FIELD_CRASH_FREE_USERS)),
    }
    if args.max_new_issues is not None:
        figures["new_issues"] = api.new_issues(client, org, version, args.env)
    if args.max_regressions is not None:
        figures["regressions"] = api.regressions(client, org, version, args.env)
    code, lines = evaluate(args, figures)
    verdict = {PASS: "pass", BREACH: "fail", NO_VERDICT: "no verdict"}[code]
    since = {
        "deploy": f"since its last deploy{' to ' + args.env if args.env else ''}",
        "created": "since it was created",
        "window": "in the window",
    }[source]
    text = [
        f"Release {version}{' in ' + args.env if args.env else ''} {since} "
        f"({to_wire(start)} to {to_wire(end)}): {figures['sessions']} session(s), "
        f"{figures['users']} user(s)",
        f"  crash-free sessions: {_show(figures['crash_free_sessions'])}",
        f"  crash-free users:    {_show(figures['crash_free_users'])}",
    ]
    if "new_issues" in figures:
        text.append(f"  new issues:          {figures['new_issues']}")
    if "regressions" in figures:
        text.append(f"  regressions:         {figures['regressions']}")
    text += lines
    text.append(f"verdict: {verdict}")
    emit(
        args,
        {
            "release": version,
            "environment": args.env,
            "window": {"start": to_wire(start), "end": to_wire(end), "from": source},
            "figures": figures,
            "verdict": verdict,
            "breaches": lines if code == BREACH else [],
            "reasons": lines if code == NO_VERDICT else [],
        },
        "\n".join(text),
    )
    return code


# --- the health section of ``releases info`` ---------------------------------------------
def health_section(client: ApiClient, org: str, version: str) -> Tuple[List[Any], str]:
    """Per environment: sessions, crash-free sessions and users (14 days), adoption (24 h).
    Returns (rows for --json, text); a server without session data gets a one-line note."""
    try:
        fields = (
            wire.FIELD_SESSIONS,
            wire.FIELD_USERS,
            wire.FIELD_CRASH_FREE_SESSIONS,
            wire.FIELD_CRASH_FREE_USERS,
        )
        mine = api.by(
            api.sessions(
                client,
                org,
                fields=fields,
                group_by=("environment",),
                release=version,
                stats_period="14d",
                interval="1d",
            ),
            "environment",
        )
        mine24 = api.by(
            api.sessions(client, org, group_by=("environment",), release=version), "environment"
        )
        all24 = api.by(api.sessions(client, org, group_by=("environment",)), "environment")
    except ApiError as exc:
        return [], f"Health:        unavailable ({safe(exc.message)})"
    rows = []
    for env in sorted(mine, key=lambda e: str(e)):
        totals = mine[env]
        env_sessions = (all24.get(env) or {}).get(wire.FIELD_SESSIONS) or 0
        rel_sessions = (mine24.get(env) or {}).get(wire.FIELD_SESSIONS) or 0
        rows.append(
            {
                "environment": env,
                "sessions": totals.get(wire.FIELD_SESSIONS) or 0,
                "users": totals.get(wire.FIELD_USERS) or 0,
                "crash_free_sessions": _pct(totals.get(wire.FIELD_CRASH_FREE_SESSIONS)),
                "crash_free_users": _pct(totals.get(wire.FIELD_CRASH_FREE_USERS)),
                "adoption": round(100.0 * rel_sessions / env_sessions, 2) if env_sessions else None,
            }
        )
    if not rows:
        return rows, "Health:        no sessions in the last 14 days"
    text = table(
        ["Environment", "Sessions", "Crash-free sessions", "Crash-free users", "Adoption 24h"],
        [
            (
                r["environment"] or "(none)",
                r["sessions"],
                _show(r["crash_free_sessions"]),
                _show(r["crash_free_users"]),
                _show(r["adoption"]),
            )
            for r in rows
        ],
    )
    return rows, "Health (last 14 days):\n" + text
