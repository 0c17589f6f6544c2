"""The global flags sentry-cli takes anywhere on the command line, on every command:
``--header KEY:VALUE`` (repeatable; sent with every Web API request) and ``--quiet`` /
``--silent`` (nothing printed, the exit code kept). And the commands and spellings that
other modules register: sentry-cli's organization commands, and the new ``sentry`` CLI's
spellings as aliases where they do not clash.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, List, Optional, Sequence, Tuple

from releasetag.protocol.errors import UsageError

from .output import error

GLOBAL_COMMANDS = (
    "info",
    "login",
    "organizations",
    "orgs",
    "projects",
    "repos",
    "issues",
    "events",
)
#: the new ``sentry`` CLI's spellings -> the module that registers them (as argparse aliases)
ALIASES = {
    "release": "releasetag.cli.cmd_releases",
    "sourcemap": "releasetag.cli.cmd_sourcemaps",
    "monitor": "releasetag.cli.cmd_monitors",
}
QUIET_FLAGS = ("--quiet", "--silent")

Quiet = Callable[[Callable[[], int]], int]


def _header(value: str) -> Tuple[str, str]:
    key, sep, val = value.partition(":")
    key, val = key.strip(), val.strip()
    if not sep or not key or any(c in key + val for c in "\r\n\0") or " " in key:
        raise UsageError(f"invalid --header {value!r}: expected KEY:VALUE")
    return key, val


def apply_global_flags(argv: Sequence[str]) -> Tuple[List[str], Optional[Quiet]]:
    """``argv`` without the global flags (up to a ``--``); ``--header`` values go to every Web
    API request; with ``--quiet`` a runner that silences stdout and stderr."""
    from releasetag.build.config import EXTRA_HEADERS

    out: List[str] = []
    quiet = False
    it = iter(range(len(argv)))
    for i in it:
        token = argv[i]
        if token == "--":
            out += argv[i:]
            break
        if token in QUIET_FLAGS:
            quiet = True
        elif token == "--header" or token.startswith("--header="):
            if token == "--header":
                nxt = next(it, None)
                if nxt is None:
                    error("--header needs KEY:VALUE (see 'releasetag --help')")
                    raise SystemExit(2)
                value = argv[nxt]
            else:
                value = token.split("=", 1)[1]
            try:
                key, val = _header(value)
            except UsageError as exc:
                error(exc.message)
                raise SystemExit(2) from None
            EXTRA_HEADERS[key] = val
        else:
            out.append(token)
    return out, (_silenced if quiet else None)


def _silenced(run: Callable[[], int]) -> int:
    """Run with stdout and stderr pointed at the null device (file descriptors too, so child
    processes and C code stay quiet); the exit code is kept."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    old = sys.stdout, sys.stderr
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            return run()
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved + [null]:
            os.close(fd)
        sys.stdout, sys.stderr = old
