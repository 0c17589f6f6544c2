"""``propose-version``: the release the runtime would report."""

from __future__ import annotations

import argparse

from releasetag.detect import release as detection
from releasetag.protocol.errors import ReleasetagError

from .output import emit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("propose-version", help="print the release the runtime would report")
    add_propose_version_arguments(p)
    p.set_defaults(func=cmd_propose_version)


def add_propose_version_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stamp",
        metavar="FILE",
        help=f"also write the release to FILE (e.g. {detection.RELEASE_FILE_NAME}) "
        "so a deployment without .git reports the same release",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_propose_version(args: argparse.Namespace) -> int:
    found = detection.detect_release_source()
    if not found:
        raise ReleasetagError(
            "could not detect a release: set RELEASETAG_RELEASE or SENTRY_RELEASE, "
            "or run inside a git repository or a supported CI"
        )
    if args.stamp:
        try:
            detection.write_release_file(args.stamp, found.release)
        except OSError as exc:
            raise ReleasetagError(
                f"cannot write release file {args.stamp}: {exc.strerror}"
            ) from None
    emit(
        args, {"release": found.release, "source": found.source, "stamp": args.stamp}, found.release
    )
    return 0
