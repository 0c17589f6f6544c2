"""Runtime-side commands: ``propose-version`` and ``send-event``."""

from __future__ import annotations

import argparse
import os
from typing import Any

from releasetag.protocol import release as release_mod
from releasetag.protocol.errors import ReleasetagError

from .output import emit


def register(sub: Any) -> None:
    p = sub.add_parser("propose-version", help="print the release the runtime would report")
    add_propose_version_arguments(p)
    p.set_defaults(func=cmd_propose_version)

    p = sub.add_parser("send-event", help="send one test event to the configured DSN")
    p.add_argument("-m", "--message", required=True, help="the event's message")
    p.add_argument("--dsn", help="DSN (default: RELEASETAG_DSN or SENTRY_DSN)")
    p.add_argument("--release", help="release (default: detected)")
    p.add_argument("-E", "--env", dest="environment", help="environment (default: detected)")
    p.add_argument(
        "-l", "--level", default="info", choices=["debug", "info", "warning", "error", "fatal"]
    )
    p.add_argument("-t", "--tag", action="append", default=[], metavar="KEY:VALUE")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the server")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_send_event)


def add_propose_version_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stamp",
        metavar="FILE",
        help=f"also write the release to FILE (e.g. {release_mod.RELEASE_FILE_NAME}) "
        "so a deployment without .git reports the same release",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_propose_version(args: argparse.Namespace) -> int:
    found = release_mod.detect_release_source()
    if not found:
        raise ReleasetagError(
            "could not detect a release: set RELEASETAG_RELEASE or SENTRY_RELEASE, "
            "or run inside a git repository or a supported CI"
        )
    if args.stamp:
        try:
            release_mod.write_release_file(args.stamp, found.release)
        except OSError as exc:
            raise ReleasetagError(
                f"cannot write release file {args.stamp}: {exc.strerror}"
            ) from None
    emit(
        args, {"release": found.release, "source": found.source, "stamp": args.stamp}, found.release
    )
    return 0


def cmd_send_event(args: argparse.Namespace) -> int:
    import releasetag

    dsn = args.dsn or os.environ.get("RELEASETAG_DSN") or os.environ.get("SENTRY_DSN")
    if not dsn:
        raise ReleasetagError("no DSN: pass --dsn or set RELEASETAG_DSN (or SENTRY_DSN)", 2)
    tags = {}
    for tag in args.tag:
        key, sep, value = tag.partition(":")
        if not sep or not key:
            raise ReleasetagError(f"invalid tag {tag!r}: expected KEY:VALUE", 2)
        tags[key] = value
    try:
        client = releasetag.Client(
            dsn=dsn, release=args.release, environment=args.environment, default_integrations=False
        )
    except ValueError as exc:
        raise ReleasetagError(str(exc), 2) from None
    try:
        with releasetag.new_scope() as scope:
            for key, value in tags.items():
                scope.set_tag(key, value)
            event_id = client.capture_message(args.message, level=args.level, scope=scope)
        result = client.send_now(timeout=args.timeout)
    finally:
        client.close(timeout=0)
    if event_id is None:
        raise ReleasetagError("the event was dropped before sending (sample rate or before_send)")
    if not result.ok:
        raise ReleasetagError(f"the server did not accept the event: {result.reason}")
    emit(
        args,
        {
            "event_id": event_id,
            "release": client.options.release,
            "environment": client.options.environment,
        },
        f"sent event {event_id}",
    )
    return 0
