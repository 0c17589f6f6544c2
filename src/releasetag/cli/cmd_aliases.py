"""The new ``sentry`` CLI's ``release deploy ENV [NAME]``: a deploy of the release given with
``-r`` or, without it, of the release the runtime would report here (as ``init()`` detects
it). ``releases deploys VERSION new -e ENV`` does the same with sentry-cli's flags."""

from __future__ import annotations

import argparse

from releasetag.detect import release as detection
from releasetag.protocol.errors import ReleasetagError

from .apiargs import add_api_arguments


def fill_deploy(p: argparse.ArgumentParser) -> None:
    p.add_argument("environment", metavar="ENV", help="the environment deployed to")
    p.add_argument("name", metavar="NAME", nargs="?", help="a name for this deploy")
    p.add_argument(
        "-r", "--release", dest="version", metavar="VERSION", help="default: as init() detects it"
    )
    add_api_arguments(p, server_url=False)
    p.set_defaults(func=cmd_deploy)


def cmd_deploy(args: argparse.Namespace) -> int:
    from . import cmd_deploys

    if not args.version:
        found = detection.detect_release_source()
        if not found:
            raise ReleasetagError("could not detect the release to deploy: pass -r VERSION")
        args.version = found.release
    for name in ("deploy_url", "time", "started", "finished"):
        setattr(args, name, None)
    return cmd_deploys.cmd_new(args)
