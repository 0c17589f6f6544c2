"""``releasetag sourcemaps inject|upload``: debug IDs into JS files and maps, and artifact
bundles uploaded through the chunk protocol (legacy release files on older servers)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Dict, List, Optional

from releasetag.protocol.errors import ReleasetagError, UsageError

from .apiargs import (
    add_api_arguments,
    add_config_flags,
    allow_failure,
    api_command,
    client_from_args,
)
from .output import emit, error, safe, warn
from .progress import progress_bar


def register(sub: Any) -> None:
    grp = sub.add_parser(
        "sourcemaps", help="inject debug IDs into JS files and upload them with their sourcemaps"
    )
    add_config_flags(grp)
    grp.set_defaults(func=lambda args: (grp.print_help(sys.stderr), 2)[1])
    actions = grp.add_subparsers(dest="sourcemaps_command", metavar="ACTION")

    p = actions.add_parser("inject", help="add debug IDs to JS files and their sourcemaps")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked)")
    p.add_argument(
        "-x",
        "--ext",
        dest="extensions",
        action="append",
        metavar="EXT",
        help="JS file extensions to process (repeatable; default: js, cjs, mjs)",
    )
    p.add_argument("--dry-run", action="store_true", help="report, change nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_inject)

    p = actions.add_parser(
        "explain",
        help="say for each frame of an event how its sourcemap resolution went, and why",
    )
    p.add_argument("event_id", metavar="EVENT_ID", help="the event (32 hex digits)")
    p.add_argument(
        "-f", "--frame", type=int, metavar="N", help="only frame N (0 = the outermost call)"
    )
    add_api_arguments(p, allow_failure=False)
    p.set_defaults(func=cmd_explain)

    p = actions.add_parser(
        "upload",
        help="upload JS files and sourcemaps as an artifact bundle (sentry-cli's flags)",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders (walked) or globs")
    p.add_argument(
        "-r",
        "--release",
        metavar="VERSION",
        help="release (default: detected like the runtime SDK does)",
    )
    p.add_argument("-d", "--dist", metavar="DIST", help="distribution (build) identifier")
    p.add_argument(
        "-u",
        "--url-prefix",
        default="~",
        metavar="PREFIX",
        help="URL prefix of every file (default: ~; one trailing slash is dropped)",
    )
    p.add_argument(
        "--url-suffix",
        default="",
        metavar="SUFFIX",
        help="suffix appended to every URL (e.g. ?v=1)",
    )
    p.add_argument(
        "-x",
        "--ext",
        dest="extensions",
        action="append",
        metavar="EXT",
        help="extensions to upload from folders (repeatable; default: js, cjs, mjs, map, "
        "jsbundle, bundle)",
    )
    p.add_argument(
        "-i",
        "--ignore",
        dest="ignores",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out files and folders matching GLOB (gitignore syntax; repeatable)",
    )
    p.add_argument(
        "-I",
        "--ignore-file",
        metavar="FILE",
        help="leave out what FILE lists (gitignore syntax, e.g. .gitignore)",
    )
    p.add_argument(
        "--strip-prefix",
        dest="strip_prefixes",
        action="append",
        default=[],
        metavar="PREFIX",
        help="remove PREFIX from the source references inside the maps (repeatable; "
        "the uploaded file paths do not change)",
    )
    p.add_argument(
        "--strip-common-prefix",
        action="store_true",
        help="remove the directory prefix all absolute source references share",
    )
    p.add_argument(
        "--strip-path-prefix",
        metavar="PREFIX",
        help="remove this leading part of the uploaded files' relative paths before building "
        "their URLs (what --strip-prefix did before releasetag 0.2)",
    )
    p.add_argument(
        "--no-rewrite",
        action="store_true",
        help="upload the maps as they are (no flattening of indexed maps, no inlined sources, "
        "no stripped prefixes)",
    )
    p.add_argument(
        "--no-sourcemap-reference",
        action="store_true",
        help="do not record each minified file's map in a sourcemap header",
    )
    p.add_argument(
        "--debug-id-reference",
        action="store_true",
        help="a minified file without a debug ID of its own takes its map's",
    )
    p.add_argument(
        "--validate",
        action="store_true",
        help="report maps that do not parse, missing sources and missing maps",
    )
    p.add_argument(
        "-s",
        "--strict",
        action="store_true",
        help="exit 1 when there is nothing to upload, or --wait ends before the server "
        "has processed the bundle",
    )
    p.add_argument("--note", metavar="TEXT", help="a note stored with the artifact bundle")
    p.add_argument(
        "--wait",
        action="store_true",
        help="wait (at most 300 s) until the server has processed the upload",
    )
    p.add_argument(
        "--wait-for",
        type=_seconds,
        metavar="SECS",
        help="like --wait, for at most SECS seconds",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="hash every file again instead of trusting the bundle hash cache "
        "(also RELEASETAG_NO_CACHE=1)",
    )
    add_api_arguments(p)
    p.set_defaults(func=cmd_upload, upload_parser=p)


def _seconds(text: str) -> float:
    """argparse type for --wait-for: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def cmd_inject(args: argparse.Namespace) -> int:
    import os

    from releasetag.build.artifacts.sourcemaps import JS_EXTENSIONS, inject

    missing = [p for p in args.paths if not os.path.exists(p)]
    for path in missing:
        sys.stderr.write(f"error: {path}: no such file or directory\n")
    results = inject(
        [p for p in args.paths if p not in missing],
        extensions=args.extensions or JS_EXTENSIONS,
        dry_run=args.dry_run,
    )
    errors = [r for r in results if r.action == "error"]
    if getattr(args, "json", False):
        emit(args, {"dry_run": args.dry_run, "files": [r.as_dict() for r in results]})
    else:
        verb = "would inject" if args.dry_run else "injected"
        for r in results:
            if r.action == "error":
                sys.stderr.write(f"error: {r.js_path}: {r.message}\n")
                continue
            what = verb if r.action == "injected" else r.action
            where = f" (map: {r.map_path})" if r.map_path else " (no sourcemap)"
            line = f"{r.debug_id}  {r.js_path}: {what}{where}"
            sys.stdout.write(line + "\n")
            if r.message:
                warn(f"{r.js_path}: {r.message}")
        done = sum(1 for r in results if r.action == "injected")
        sys.stdout.write(
            f"> {verb} {done} file(s), {len(results) - done - len(errors)} "
            f"already done, {len(errors)} failed\n"
        )
    return 1 if errors or missing else 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Fetch the event and print, per frame, its minified and resolved location and the
    steps the server recorded (the collector records them; Sentry's source-map-debug endpoint
    is asked for frames without them)."""
    from urllib.parse import quote

    from releasetag.build.webapi.http import ApiError

    event_id = args.event_id.replace("-", "").lower()
    if len(event_id) != 32 or not all(c in "0123456789abcdef" for c in event_id):
        raise UsageError(f"invalid event ID {args.event_id!r}: expected 32 hexadecimal digits")
    client = client_from_args(args)
    org = client.config.require_org()
    project = client.config.require_project()
    base = f"/projects/{quote(org, safe='')}/{quote(project, safe='')}/events/{event_id}/"
    with client:
        event = client.json("GET", base, not_found=f"event {event_id} not found in {org}/{project}")
        frames = explain_frames(event if isinstance(event, dict) else {})
        if not frames:
            raise ReleasetagError(f"event {event_id} has no exception frames to explain")
        if args.frame is not None:
            if not 0 <= args.frame < len(frames):
                raise UsageError(f"--frame {args.frame}: the event has frames 0-{len(frames) - 1}")
            frames = [frames[args.frame]]
        for f in frames:
            if f["steps"] or not f["candidate"]:
                continue
            try:  # Sentry's own explanation, where the server has it
                answer = client.json(
                    "GET",
                    base + "source-map-debug/",
                    params={"frame_idx": f["index_in_exception"], "exception_idx": f["exception"]},
                )
            except ApiError:
                f["steps"] = ["the server recorded no resolution steps for this frame"]
                continue
            errors = answer.get("errors") if isinstance(answer, dict) else None
            f["steps"] = [
                str(e.get("message") or e.get("type")) for e in errors or [] if isinstance(e, dict)
            ] or ["the server reports no sourcemap problem for this frame"]
    if getattr(args, "json", False):
        emit(args, {"event_id": event_id, "frames": frames})
        return 0
    for f in frames:
        where = _where(f["minified"])
        if f["resolved"]:
            line = f"frame {f['index']}: {where} -> {_where(f['original'])}"
        elif f["candidate"]:
            line = f"frame {f['index']}: {where}: not resolved"
        else:
            line = f"frame {f['index']}: {where}: no line and column to resolve"
        sys.stdout.write(safe(line) + "\n")
        for step in f["steps"]:
            sys.stdout.write(f"    {safe(step)}\n")
    return 0


def explain_frames(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Per frame of every exception (outermost call first): its minified location, the
    resolved one, and the recorded steps. Reads the collector's ``payload`` or Sentry's
    ``entries``."""
    values = None
    payload = event.get("payload")
    if isinstance(payload, dict):
        exc = payload.get("exception")
        values = exc.get("values") if isinstance(exc, dict) else exc
    if values is None:
        for entry in event.get("entries") or []:
            if isinstance(entry, dict) and entry.get("type") == "exception":
                values = (entry.get("data") or {}).get("values")
    out: List[Dict[str, Any]] = []
    for e, value in enumerate(values if isinstance(values, list) else []):
        if not isinstance(value, dict):
            continue
        frames = (value.get("stacktrace") or {}).get("frames") or []
        raw = (value.get("raw_stacktrace") or value.get("rawStacktrace") or {}).get("frames")
        for n, frame in enumerate(frames):
            if not isinstance(frame, dict):
                continue
            before = raw[n] if isinstance(raw, list) and n < len(raw) else frame
            resolution = (frame.get("data") or {}).get("resolution") or {}
            resolved = bool(resolution.get("resolved")) or (before is not frame and (
                before.get("lineno"), before.get("abs_path")
            ) != (frame.get("lineno"), frame.get("abs_path")))  # fmt: skip
            steps = list(resolution.get("steps") or [])
            if resolved and not steps and (frame.get("data") or {}).get("sourcemap"):
                steps = [
                    f"resolved through {frame['data']['sourcemap']} ({resolution.get('via')}) "
                    f"to {frame.get('abs_path') or frame.get('filename')}:{frame.get('lineno')}"
                ]
            out.append(
                {
                    "index": len(out),
                    "exception": e,
                    "index_in_exception": n,
                    "candidate": before.get("colno") is not None,
                    "minified": _location(before),
                    "original": _location(frame) if resolved else None,
                    "resolved": resolved,
                    "via": resolution.get("via"),
                    "steps": steps,
                }
            )
    return out


def _location(frame: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "file": frame.get("abs_path") or frame.get("filename"),
        "line": frame.get("lineno"),
        "column": frame.get("colno"),
        "function": frame.get("function"),
    }


def _where(loc: Optional[Dict[str, Any]]) -> str:
    if not loc:
        return "?"
    text = f"{loc['file']}:{loc['line']}" + (f":{loc['column']}" if loc.get("column") else "")
    return text + (f" ({loc['function']})" if loc.get("function") else "")


def _release(args: argparse.Namespace) -> Optional[str]:
    from releasetag.protocol import release as release_mod

    if args.release:
        err = release_mod.release_name_error(args.release)
        if err:
            raise UsageError(f"invalid release name {args.release!r}: {err}")
        return args.release
    return release_mod.detect_release()


@api_command
def cmd_upload(args: argparse.Namespace) -> int:
    import tempfile

    from releasetag.build.artifacts.sourcemaps import (
        UPLOAD_EXTENSIONS,
        SourceMapError,
        collect,
        has_dot_segments,
    )
    from releasetag.protocol import release as release_mod

    if args.no_rewrite:  # as sentry-cli, which refuses these together
        for flag, given in (
            ("--strip-prefix", args.strip_prefixes),
            ("--strip-common-prefix", args.strip_common_prefix),
        ):
            if given:
                args.upload_parser.error(f"argument {flag}: not allowed with argument --no-rewrite")
    for flag, value in (("--url-prefix", args.url_prefix), ("--url-suffix", args.url_suffix)):
        if value and has_dot_segments(value + "/"):
            raise UsageError(f"{flag} {value!r} has a '.' or '..' segment: name the path plainly")
    if args.ignore_file and not os.path.isfile(args.ignore_file):
        raise UsageError(f"--ignore-file {args.ignore_file}: no such file")
    if args.dist is not None:
        err = release_mod.dist_error(args.dist)
        if err:
            raise UsageError(f"invalid dist {args.dist!r}: {err}")
    release = _release(args)
    try:
        files, problems = collect(
            args.paths,
            extensions=args.extensions or UPLOAD_EXTENSIONS,
            url_prefix=args.url_prefix,
            url_suffix=args.url_suffix,
            strip_path_prefix=args.strip_path_prefix,
            validate=args.validate,
            ignores=args.ignores,
            ignore_file=args.ignore_file,
            sourcemap_reference=not args.no_sourcemap_reference,
            debug_id_reference=args.debug_id_reference,
        )
    except SourceMapError as exc:
        raise ReleasetagError(str(exc)) from None
    workdir = tempfile.TemporaryDirectory(prefix="releasetag-maps-")
    try:
        return _upload(args, files, problems, release, workdir.name)
    finally:
        workdir.cleanup()


def _upload(
    args: argparse.Namespace,
    files: List[Any],
    problems: List[Any],
    release: Optional[str],
    workdir: str,
) -> int:
    from releasetag.build.artifacts.bundle import BundleError, LazyBundle
    from releasetag.build.artifacts.bundlecache import BundleCache, CachedBundle, cache_dir
    from releasetag.build.artifacts.sourcemaps import UPLOAD_EXTENSIONS
    from releasetag.build.artifacts.upload import (
        get_chunk_options,
        upload_bundle,
        upload_release_files,
    )

    if files and not args.no_rewrite:
        from releasetag.build.artifacts.rewrite import RewriteOptions, rewrite_files

        _, unrewritten = rewrite_files(
            files,
            RewriteOptions(args.strip_prefixes, args.strip_common_prefix),
            workdir,
            None if args.no_cache else cache_dir(),
        )
        for path, message in unrewritten:
            warn(f"{path}: not rewritten ({message})")
    for problem in problems:
        (sys.stderr.write(f"error: {problem}\n") if problem.fatal else warn(str(problem)))
    failed = any(p.fatal for p in problems)
    if not files:
        if failed:
            raise ReleasetagError("no files to upload (see the errors above)")
        if args.strict:
            raise ReleasetagError("no files to upload (--strict)")
        warn(
            "nothing to upload: no "
            + "/".join(args.extensions or UPLOAD_EXTENSIONS)
            + " files under "
            + ", ".join(args.paths)
        )
        return 0
    with_ids = sum(1 for f in files if f.debug_id)
    if not release and not with_ids:
        raise ReleasetagError(
            "no release and no debug IDs: pass --release, set RELEASETAG_RELEASE, "
            "or run `releasetag sourcemaps inject` first"
        )
    client = client_from_args(args)
    config = client.config
    org = config.require_org()
    projects = list(config.projects) or [config.require_project()]
    summary: Dict[str, Any] = {
        "release": release,
        "dist": args.dist,
        "files": len(files),
        "with_debug_id": with_ids,
        "problems": [str(p) for p in problems],
    }
    with client:
        options = get_chunk_options(client, org)
        legacy = options is None or (options.accept and "artifact_bundles" not in options.accept)
        if legacy:
            if not release:
                raise ReleasetagError(
                    "this server has no artifact bundle upload; the legacy "
                    "release-files upload needs --release"
                )
            results = upload_release_files(client, org, release, files, dist=args.dist)
            bad = [r for r in results if r["state"] == "error"]
            for r in bad:
                error(f"{r['url']}: {r['detail']}")
            summary.update(
                method="release-files", uploaded=len(results) - len(bad), failed=len(bad)
            )
            failed = failed or bool(bad)
        else:
            assert options is not None  # not legacy
            meta = dict(
                org=org,
                projects=projects,
                release=release,
                dist=args.dist,
                note=args.note,
                chunk_size=options.chunk_size,
            )
            folder = None if args.no_cache else cache_dir()
            cache = BundleCache(folder) if folder else None
            key = cache.key(files, meta, options.chunk_size) if cache else None
            known = cache.get(key) if cache and key else None
            try:
                bundle = CachedBundle(files, known, **meta) if known else LazyBundle(files, **meta)
            except (BundleError, OSError) as exc:
                raise ReleasetagError(f"cannot build the artifact bundle: {exc}") from None
            try:
                result = upload_bundle(
                    client,
                    options,
                    org,
                    projects,
                    bundle,
                    release=release,
                    dist=args.dist,
                    wait=args.wait or args.wait_for is not None,
                    wait_for=args.wait_for,
                    progress=progress_bar(args, "uploading chunks"),
                )
            except OSError as exc:
                raise ReleasetagError(f"cannot build the artifact bundle: {exc}") from None
            finally:
                bundle.close()
            if (
                cache
                and key
                and result.state != "error"
                and (known is None or known.checksum != bundle.chunked.checksum)
            ):
                cache.put(key, bundle.chunked)
            summary.update(
                method="artifact-bundle", bundle=result.as_dict(), hashes_from_cache=bool(known)
            )
            if result.waited_out:
                message = (
                    f"the server stored the bundle but had not finished processing it when "
                    f"the wait ended (state {result.state!r})"
                )
                if args.strict:
                    error(f"{message} (--strict)")
                    failed = True
                else:
                    warn(message)
    if getattr(args, "json", False):
        emit(args, summary)
    elif summary["method"] == "artifact-bundle":
        b = summary["bundle"]
        sys.stdout.write(
            f"> uploaded {len(files)} file(s) as an artifact bundle "
            f"({b['size']} bytes, {b['chunks']} chunk(s), {b['sent']} sent, "
            f"state {safe(b['state'])})" + (f" for release {release}" if release else "") + "\n"
        )
    else:
        sys.stdout.write(
            f"> uploaded {summary['uploaded']} file(s) to release {release} "
            f"(legacy release files), {summary['failed']} failed\n"
        )
    if failed and allow_failure(args):
        warn("some files could not be uploaded (ignored: --allow-failure)")
        return 0
    return 1 if failed else 0


__all__: List[str] = ["register"]
