"""``releasetag releases verify [VERSION]``: is the release the runtime reports here the one
the pipeline made? It checks on the server that the release exists and, as required, is
finalized, has commits, has artifacts matching the built files found locally (by debug ID),
and has a deploy to the environment.

Exit codes: 0 every requirement holds; 3 one is unmet (one line each); 4 none is unmet but
one could not be checked (the server lacks that part of the Web API: named ``unknown``);
1 errors; 2 usage errors.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple
from urllib.parse import quote

from releasetag.build.webapi import releases as api
from releasetag.build.webapi.client import ApiClient, ApiError
from releasetag.build.webapi.deploys import list_deploys
from releasetag.detect import release as detection
from releasetag.protocol.errors import ReleasetagError, UsageError

from .apiargs import add_api_arguments, client_from_args, release_arg
from .output import emit, safe

REQUIREMENTS = ("finalized", "commits", "artifacts", "deploy")
OK, UNMET, UNKNOWN = "ok", "unmet", "unknown"
_JS = (".js", ".mjs", ".cjs")
_SKIP_DIRS = frozenset({"node_modules", ".git", ".hg", ".svn", "__pycache__", ".venv", "venv"})


def _requirements(text: str) -> List[str]:
    wanted = [w.strip() for w in text.split(",") if w.strip()]
    bad = [w for w in wanted if w not in REQUIREMENTS]
    if bad or not wanted:
        raise argparse.ArgumentTypeError(
            f"unknown requirement {', '.join(bad) or text!r}: use {','.join(REQUIREMENTS)}"
        )
    return wanted


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "version",
        metavar="VERSION",
        nargs="?",
        help="release name (default: the release the runtime would report here, as init() "
        "detects it)",
    )
    p.add_argument(
        "-e",
        "--env",
        metavar="ENV",
        help="the environment the deploy must be to (default: as init() detects it)",
    )
    p.add_argument(
        "--require",
        type=_requirements,
        metavar="LIST",
        help=f"what to check, comma-separated from {','.join(REQUIREMENTS)} (default: "
        "finalized,commits,deploy, and artifacts when built files are found)",
    )
    p.add_argument(
        "--path",
        dest="paths",
        action="append",
        default=[],
        metavar="PATH",
        help="a folder of built JS files or a debug file to match against the server's "
        "artifacts (repeatable; default: injected JS files under the current folder)",
    )
    add_api_arguments(p, allow_failure=False)
    p.set_defaults(func=cmd_verify)


def local_debug_ids(paths: Sequence[str]) -> Tuple[Set[str], Set[str]]:
    """(debug IDs of injected JS files, debug IDs of debug files) under ``paths`` (folders
    are walked for JS files, leaving out node_modules and VCS folders; a file that is not JS
    is read as a debug file)."""
    from releasetag.build.artifacts.walk import Walk

    js: Set[str] = set()
    difs: Set[str] = set()
    for top in paths:
        if os.path.isdir(top):
            walk = Walk(
                lambda _r, rel, is_dir: (
                    os.path.basename(rel) not in _SKIP_DIRS if is_dir else rel.endswith(_JS)
                )
            )
            for path in walk.files(top):
                found = _js_debug_id(path)
                if found:
                    js.add(found)
        elif os.path.isfile(top) and top.endswith(_JS):
            found = _js_debug_id(top)
            if found:
                js.add(found)
        elif os.path.isfile(top):
            from releasetag.build.artifacts.debugfiles import inspect

            difs.update(str(o.debug_id).lower() for o in inspect(top).objects if o.debug_id)
        else:
            raise UsageError(f"--path {top!r} does not exist")
    return js, difs


def _js_debug_id(path: str) -> Optional[str]:
    from releasetag.build.artifacts.collect import _read_js_tail
    from releasetag.build.artifacts.sourcemaps import js_debug_id

    try:
        return js_debug_id(_read_js_tail(path))
    except OSError:
        return None


def _missing_api(exc: ApiError) -> bool:
    return exc.status in (404, 405, 501)


def _check_artifacts(
    client: ApiClient,
    org: str,
    project: Optional[str],
    version: str,
    wanted: Set[str],
    difs: Set[str],
) -> Tuple[str, str]:
    if not wanted and not difs:
        return UNMET, "artifacts: no injected JS files or debug files found locally to compare"
    known: Set[str] = set()
    try:
        for item in client.list_all(api.release_path(org, version) + "files/"):
            if isinstance(item, dict) and item.get("debugId"):
                known.add(str(item["debugId"]).lower())
    except ApiError as exc:
        if not _missing_api(exc):
            raise
    missing = sorted(wanted - known)
    if (missing or difs) and not project:
        return UNKNOWN, "artifacts: unknown (no project set to look debug IDs up in)"
    base = f"/projects/{quote(org, safe='')}/{quote(project or '', safe='')}/"
    try:
        missing = [
            d
            for d in missing
            if not client.json("GET", base + "artifact-lookup/", params={"debug_id": d})
        ]
        dif_missing = []
        for d in sorted(difs):
            listed = client.json("GET", base + "files/dsyms/", params={"debug_id": d}) or []
            if not any(
                str(x.get("debugId", "")).lower() == d for x in listed if isinstance(x, dict)
            ):
                dif_missing.append(d)
    except ApiError as exc:
        if _missing_api(exc):
            return UNKNOWN, "artifacts: unknown (the server has no debug ID lookup API)"
        raise
    total = len(wanted) + len(difs)
    gone = missing + dif_missing
    if gone:
        return UNMET, (
            f"artifacts: {len(gone)} of {total} local debug IDs match no artifact on the server "
            f"(first: {gone[0]})"
        )
    return OK, f"artifacts: all {total} local debug IDs uploaded"


def _check_deploy(client: ApiClient, org: str, version: str, env: str) -> Tuple[str, str]:
    try:
        deploys = list_deploys(client, org, version)
    except ApiError as exc:
        if _missing_api(exc):
            return UNKNOWN, "deploy: unknown (the server has no deploys API)"
        raise
    if any(isinstance(d, dict) and d.get("environment") == env for d in deploys):
        return OK, f"deploy: deployed to {env}"
    where = sorted({str(d.get("environment")) for d in deploys if isinstance(d, dict)})
    also = f" (deployed to: {', '.join(where)})" if where else ""
    return UNMET, f"deploy: no deploy to {env}{also}"


def _check_commits(
    client: ApiClient, org: str, version: str, release: Dict[str, Any]
) -> Tuple[str, str]:
    count = release.get("commitCount")
    if not isinstance(count, int):
        try:
            count = len(api.release_commits(client, org, version))
        except ApiError as exc:
            if _missing_api(exc):
                return UNKNOWN, "commits: unknown (the server does not list a release's commits)"
            raise
    if count:
        return OK, f"commits: {count}"
    return UNMET, "commits: the release has no commits (run releases set-commits)"


def _target(args: argparse.Namespace) -> Tuple[str, str, str]:
    """(version, where it came from, environment)."""
    if args.version:
        version, source = release_arg(args.version), "argument"
    else:
        found = detection.detect_release_source()
        if not found:
            raise ReleasetagError(
                "could not detect the release the runtime would report here: give VERSION"
            )
        version, source = release_arg(found.release), found.source
    return version, source, args.env or detection.detect_environment()


def cmd_verify(args: argparse.Namespace) -> int:
    version, source, env = _target(args)
    js_ids, dif_ids = local_debug_ids(args.paths or [os.getcwd()])
    required = args.require or (
        ["finalized", "commits", "deploy"] + (["artifacts"] if js_ids or dif_ids else [])
    )
    required = sorted(set(required), key=REQUIREMENTS.index)
    client = client_from_args(args)
    org = client.config.require_org()
    results: Dict[str, Tuple[str, str]] = {}
    try:
        release = api.get_release(client, org, version)
    except ApiError as exc:
        if exc.status != 404:
            raise
        release = None
    if not isinstance(release, dict):
        results["exists"] = (UNMET, f"exists: release {version} is not on the server")
    else:
        results["exists"] = (OK, "exists")
        for name in required:
            if name == "finalized":
                done = bool(release.get("dateReleased"))
                results[name] = (
                    (OK, "finalized")
                    if done
                    else (UNMET, "finalized: the release is not finalized (run releases finalize)")
                )
            elif name == "commits":
                results[name] = _check_commits(client, org, version, release)
            elif name == "artifacts":
                results[name] = _check_artifacts(
                    client, org, client.config.project, version, js_ids, dif_ids
                )
            else:
                results[name] = _check_deploy(client, org, version, env)
    states = [state for state, _ in results.values()]
    code = 3 if UNMET in states else 4 if UNKNOWN in states else 0
    lines = [f"Release {version} (from {source}), environment {env}:"]
    lines += [safe(text) for state, text in results.values() if state != OK]
    lines.append(
        {0: "verified", 3: "not verified", 4: "not verified: some requirements unknown"}[code]
    )
    emit(
        args,
        {
            "release": version,
            "source": source,
            "environment": env,
            "requirements": {k: {"state": s, "detail": t} for k, (s, t) in results.items()},
            "verified": code == 0,
        },
        "\n".join(lines),
    )
    return code
