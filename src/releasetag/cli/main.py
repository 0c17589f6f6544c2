"""Entry point of the ``releasetag`` command.

Each command group lives in its own module listed in ``COMMAND_MODULES``; a module exposes
``register(subparsers)`` which adds its parser(s) and sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import List, Optional

from releasetag.protocol.errors import ReleasetagError

from .._version import __version__
from .apiargs import add_global_arguments

COMMAND_MODULES = (
    "releasetag.cli.cmd_runtime",
    "releasetag.cli.cmd_releases",
    "releasetag.cli.cmd_deploys",
    "releasetag.cli.cmd_serve",
    "releasetag.cli.cmd_sourcemaps",
    "releasetag.cli.cmd_debug_files",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="releasetag", description="Release-tagged error reporting and release management."
    )
    parser.add_argument("--version", action="version", version=f"releasetag {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("RELEASETAG_LOG_LEVEL"),
        help="log level for diagnostics on stderr (debug, info, warning)",
    )
    add_global_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_level:
        logging.basicConfig(
            level=args.log_level.upper(),
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except ReleasetagError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:  # a bug: still one line unless asked for the traceback
        if os.environ.get("RELEASETAG_TRACEBACK"):
            raise
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(set RELEASETAG_TRACEBACK=1 for details)\n"
        )
        return 1


def run() -> None:
    sys.exit(main())
