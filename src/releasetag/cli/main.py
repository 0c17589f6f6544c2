"""Entry point of the ``releasetag`` command.

Each command group lives in its own module; ``COMMANDS`` names the module of every top-level
command. A module exposes ``register(subparsers)`` which adds its parser(s) and sets
``func(args) -> int``. Only the module of the command being run is imported (a pipeline step
starts in a fraction of the time); ``--help`` and unknown commands load them all.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from releasetag.protocol.errors import ReleasetagError

from .._version import __version__
from .apiargs import add_global_arguments
from .globalflags import ALIASES, GLOBAL_COMMANDS, apply_global_flags
from .lazyparse import Formatter
from .output import error, safe, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence

COMMANDS: Dict[str, str] = {
    "propose-version": "releasetag.cli.cmd_runtime",
    "send-event": "releasetag.cli.cmd_send",
    "send-envelope": "releasetag.cli.cmd_send",
    "releases": "releasetag.cli.cmd_releases",
    "deploys": "releasetag.cli.cmd_deploys",
    "serve": "releasetag.cli.cmd_serve",
    "demo": "releasetag.cli.cmd_serve",
    "sourcemaps": "releasetag.cli.cmd_sourcemaps",
    "debug-files": "releasetag.cli.cmd_debug_files",
    "monitors": "releasetag.cli.cmd_monitors",
    "logs": "releasetag.cli.cmd_logs",
    **dict.fromkeys(GLOBAL_COMMANDS, "releasetag.cli.cmd_org"),
    "completions": "releasetag.cli.cmd_completions",
    **ALIASES,
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))
# top-level options that take a value: their value is not the command
_VALUED = frozenset({"--url", "--auth-token", "-o", "--org", "-p", "--project", "--log-level"})


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
        """A bad flag or argument: one line (the usage is a ``--help`` away) and exit 2."""
        self.exit(2, f"error: {safe(message)} (see '{self.prog} --help')\n")


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LOG_LEVEL_ENV = "RELEASETAG_LOG_LEVEL"


def log_level(value: str) -> str:
    """``--log-level``'s value: one of ``LOG_LEVELS``, in any case."""
    level = value.strip().lower()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"invalid log level {value!r}: use one of {', '.join(LOG_LEVELS)}"
        )
    return level


def _env_log_level() -> Optional[str]:
    """``RELEASETAG_LOG_LEVEL``; a bad value is a warning (the command still runs: a
    diagnostics setting in the environment must not break a pipeline step)."""
    value = os.environ.get(LOG_LEVEL_ENV)
    if not value:
        return None
    try:
        return log_level(value)
    except argparse.ArgumentTypeError as exc:
        warn(f"{LOG_LEVEL_ENV}: {exc}; ignored")
        return None


def command_of(argv: Sequence[str]) -> Optional[str]:
    """The top-level command ``argv`` runs, if it names a known one."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _VALUED:
            skip = True
        elif token == "--" or not token.startswith("-") or token == "-":
            return token if token in COMMANDS else None
    return None


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The parser: with ``argv``, only the command it names is registered."""
    parser = _Parser(
        prog="releasetag", description="Release-tagged error reporting and release management."
    )
    parser.add_argument("--version", action="version", version=f"releasetag {__version__}")
    parser.add_argument(
        "--log-level",
        type=log_level,
        metavar="LEVEL",
        help=f"log level for diagnostics on stderr: {', '.join(LOG_LEVELS)} "
        f"(default: {LOG_LEVEL_ENV}, else none)",
    )
    add_global_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    command = command_of(argv) if argv is not None else None
    for name in (COMMANDS[command],) if command else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    argv, quiet = apply_global_flags(argv)  # --header, --quiet/--silent: anywhere, any command
    if quiet:
        return quiet(lambda: main(argv))
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    level = args.log_level or _env_log_level()
    if level:
        import logging

        logging.basicConfig(
            level=level.upper(),
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except ReleasetagError as exc:
        error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except Exception as exc:  # a bug: still one line unless asked for the traceback
        if os.environ.get("RELEASETAG_TRACEBACK"):
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (set RELEASETAG_TRACEBACK=1 for details)")
        return 1


def run() -> None:
    sys.exit(main())
