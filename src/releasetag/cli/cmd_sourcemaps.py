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
        "sourcemaps",
        aliases=["sourcemap"],  # the new sentry CLI's spelling
        help="inject debug IDs into JS files and upload them with their sourcemaps",
    )
    add_config_flags(grp)
    grp.set_defaults(func=lambda args: (grp.print_help(sys.stderr), 2)[1])
    actions = grp.add_subparsers(dest="sourcemaps_command", metavar="ACTION")

    _register_inject(actions)
    from .cmd_sourcemaps_explain import register_explain

    register_explain(actions)
    _register_upload(actions)


def _register_inject(actions: Any) -> None:
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


def _register_upload(actions: Any) -> None:
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
    _add_selection_flags(p)
    _add_rewrite_flags(p)
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


def _add_selection_flags(p: argparse.ArgumentParser) -> None:
    """``sourcemaps upload``'s flags choosing which files go up."""
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


def _add_rewrite_flags(p: argparse.ArgumentParser) -> None:
    """``sourcemaps upload``'s flags about rewriting the maps and reading their sources."""
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
        "--source-root",
        dest="source_roots",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder the maps' sources may be read from when they lack content "
        "(repeatable; the uploaded folders always are)",
    )


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
    from releasetag.build.artifacts.inject import inject
    from releasetag.build.artifacts.sourcemaps import JS_EXTENSIONS

    results = inject(args.paths, extensions=args.extensions or JS_EXTENSIONS, dry_run=args.dry_run)
    errors = [r for r in results if r.action == "error"]
    skipped = [r for r in results if r.action == "skipped"]
    if getattr(args, "json", False):
        emit(args, {"dry_run": args.dry_run, "files": [r.as_dict() for r in results]})
        return 1 if errors else 0
    verb = "would inject" if args.dry_run else "injected"
    for r in results:
        if r.action == "error":
            error(f"{r.js_path}: {r.message}")
            continue
        if r.action == "skipped":
            warn(f"{r.js_path}: {r.message}")
            continue
        what = verb if r.action == "injected" else r.action
        where = f" (map: {r.map_path})" if r.map_path else " (no sourcemap)"
        sys.stdout.write(f"{r.debug_id}  {r.js_path}: {what}{where}\n")
        if r.message:
            warn(f"{r.js_path}: {r.message}")
    done = sum(1 for r in results if r.action == "injected")
    sys.stdout.write(
        f"> {verb} {done} file(s), {len(results) - done - len(errors) - len(skipped)} "
        f"already done, {len(errors)} failed"
        + (f", {len(skipped)} skipped" if skipped else "")
        + "\n"
    )
    return 1 if errors else 0


def _release(args: argparse.Namespace) -> Optional[str]:
    from releasetag.detect import release as detection
    from releasetag.protocol import release as release_mod

    if args.release:
        err = release_mod.release_name_error(args.release)
        if err:
            raise UsageError(f"invalid release name {args.release!r}: {err}")
        return args.release
    return detection.detect_release()


@api_command
def cmd_upload(args: argparse.Namespace) -> int:
    import tempfile

    from releasetag.build.artifacts.collect import UPLOAD_EXTENSIONS, collect
    from releasetag.build.artifacts.sourcemaps import SourceMapError

    _check_upload_flags(args)
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


def _check_upload_flags(args: argparse.Namespace) -> None:
    """Usage errors (exit 2) for flags that cannot work, before anything is read."""
    from releasetag.build.artifacts.collect import has_dot_segments
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
    for root in args.source_roots:
        if not os.path.isdir(root):
            raise UsageError(f"--source-root {root}: no such folder")
    if args.dist is not None:
        err = release_mod.dist_error(args.dist)
        if err:
            raise UsageError(f"invalid dist {args.dist!r}: {err}")


def _upload(
    args: argparse.Namespace,
    files: List[Any],
    problems: List[Any],
    release: Optional[str],
    workdir: str,
) -> int:
    from releasetag.build.artifacts.collect import UPLOAD_EXTENSIONS

    if files and not args.no_rewrite:
        _rewrite(args, files, workdir)
    for problem in problems:
        (error(str(problem)) if problem.fatal else warn(str(problem)))
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
    summary: Dict[str, Any] = {
        "release": release,
        "dist": args.dist,
        "files": len(files),
        "with_debug_id": with_ids,
        "problems": [str(p) for p in problems],
    }
    failed = _send(args, files, release, summary) or failed
    _print_summary(args, summary, len(files), release)
    if failed and allow_failure(args):
        warn("some files could not be uploaded (ignored: --allow-failure)")
        return 0
    return 1 if failed else 0


def _rewrite(args: argparse.Namespace, files: List[Any], workdir: str) -> None:
    """Rewrite the maps as sentry-cli does; one warning line for the sources not read."""
    from releasetag.build.artifacts.bundlecache import cache_dir
    from releasetag.build.artifacts.collect import upload_roots
    from releasetag.build.artifacts.rewrite import MAX_SOURCE_BYTES, RewriteOptions, rewrite_files
    from releasetag.build.artifacts.walk import shown

    roots = upload_roots(args.paths)
    report = rewrite_files(
        files,
        RewriteOptions(
            args.strip_prefixes, args.strip_common_prefix, source_roots=roots + args.source_roots
        ),
        workdir,
        None if args.no_cache else cache_dir(),
    )
    for path, message in report.problems:
        warn(f"{shown(path)}: not rewritten ({message})")
    if report.refused:
        path, source, why = report.refused[0]
        more = f" and {len(report.refused) - 1} more" if len(report.refused) > 1 else ""
        warn(
            f"{len(report.refused)} map source(s) left without content, not read: "
            f"{source!r} in {shown(path)} ({why}){more}; sources are read only from regular "
            f"files of at most {MAX_SOURCE_BYTES >> 20} MiB under "
            f"{', '.join(shown(r) for r in roots) or '.'} or a --source-root DIR"
        )


def _send(
    args: argparse.Namespace, files: List[Any], release: Optional[str], summary: Dict[str, Any]
) -> bool:
    """Upload ``files`` (an artifact bundle, or legacy release files on servers without
    one); fills ``summary``; True when something failed."""
    from releasetag.build.artifacts.upload import get_chunk_options, upload_release_files

    client = client_from_args(args)
    config = client.config
    org = config.require_org()
    projects = list(config.projects) or [config.require_project()]
    with client:
        options = get_chunk_options(client, org)
        if options is not None and (not options.accept or "artifact_bundles" in options.accept):
            return _send_bundle(args, client, options, org, projects, files, release, summary)
        if not release:
            raise ReleasetagError(
                "this server has no artifact bundle upload; the legacy "
                "release-files upload needs --release"
            )
        results = upload_release_files(client, org, release, files, dist=args.dist)
    bad = [r for r in results if r["state"] == "error"]
    for r in bad:
        error(f"{r['url']}: {r['detail']}")
    summary.update(method="release-files", uploaded=len(results) - len(bad), failed=len(bad))
    return bool(bad)


def _send_bundle(
    args: argparse.Namespace,
    client: Any,
    options: Any,
    org: str,
    projects: List[str],
    files: List[Any],
    release: Optional[str],
    summary: Dict[str, Any],
) -> bool:
    """The artifact bundle flow, with the bundle hash cache; True when something failed."""
    from releasetag.build.artifacts.bundle import LazyBundle
    from releasetag.build.artifacts.bundle_format import BundleError
    from releasetag.build.artifacts.bundlecache import BundleCache, CachedBundle, cache_dir
    from releasetag.build.artifacts.upload import upload_bundle

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
        finally:
            bundle.close()
    except (BundleError, OSError) as exc:
        raise ReleasetagError(f"cannot build the artifact bundle: {exc}") from None
    if (
        cache
        and key
        and result.state != "error"
        and (known is None or known.checksum != bundle.chunked.checksum)
    ):
        cache.put(key, bundle.chunked)
    summary.update(method="artifact-bundle", bundle=result.as_dict(), hashes_from_cache=bool(known))
    if not result.waited_out:
        return False
    message = (
        f"the server stored the bundle but had not finished processing it when "
        f"the wait ended (state {result.state!r})"
    )
    if args.strict:
        error(f"{message} (--strict)")
        return True
    warn(message)
    return False


def _print_summary(
    args: argparse.Namespace, summary: Dict[str, Any], count: int, release: Optional[str]
) -> None:
    if getattr(args, "json", False):
        emit(args, summary)
    elif summary["method"] == "artifact-bundle":
        b = summary["bundle"]
        sys.stdout.write(
            f"> uploaded {count} file(s) as an artifact bundle "
            f"({b['size']} bytes, {b['chunks']} chunk(s), {b['sent']} sent, "
            f"state {safe(b['state'])})" + (f" for release {release}" if release else "") + "\n"
        )
    else:
        sys.stdout.write(
            f"> uploaded {summary['uploaded']} file(s) to release {release} "
            f"(legacy release files), {summary['failed']} failed\n"
        )


__all__: List[str] = ["register"]
