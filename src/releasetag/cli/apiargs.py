"""Shared plumbing for commands that talk to the Web API.

- ``add_global_arguments(parser)``: ``--url --auth-token --org/-o --project/-p`` on the top-level
  parser (``releasetag --org acme releases new 1.0``, sentry-cli style);
- ``add_api_arguments(parser)``: the same flags on a command (``releases new 1.0 -o acme``), plus
  ``--json`` and ``--allow-failure``;
- ``config_from_args`` / ``client_from_args``: the resolved ``Config`` and an ``ApiClient``;
- ``api_command``: decorator turning API / config / git failures into one ``error:`` line, and,
  with ``--allow-failure`` or ``RELEASETAG_ALLOW_FAILURE``, into a warning with exit 0.
"""

from __future__ import annotations

import argparse
import functools
import os

from releasetag.detect.env import env_flag
from releasetag.protocol import release as release_mod
from releasetag.protocol.errors import ALLOW_FAILURE_HINT, ReleasetagError, UsageError

from .output import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

    from releasetag.build.config import Config
    from releasetag.build.webapi.client import ApiClient

ALLOW_FAILURE_ENV = ("RELEASETAG_ALLOW_FAILURE", "SENTRY_ALLOW_FAILURE")


def add_config_flags(parser: argparse.ArgumentParser, *, server_url: bool = True) -> None:
    """``--url --auth-token --org/-o --project/-p`` (values left unset when not given)."""
    s = argparse.SUPPRESS
    if server_url:
        parser.add_argument(
            "--url",
            type=server_url_arg,
            default=s,
            metavar="URL",
            help="server URL (default: RELEASETAG_URL, SENTRY_URL, "
            ".releasetagrc, https://sentry.io/)",
        )
    parser.add_argument(
        "--auth-token",
        type=auth_token_arg,
        default=s,
        metavar="TOKEN",
        help="auth token (default: RELEASETAG_AUTH_TOKEN, SENTRY_AUTH_TOKEN, "
        "[auth] token in .releasetagrc / .sentryclirc)",
    )
    parser.add_argument(
        "-o",
        "--org",
        default=s,
        metavar="ORG",
        help="organization slug (default: RELEASETAG_ORG, SENTRY_ORG, ...)",
    )
    parser.add_argument(
        "-p",
        "--project",
        dest="projects",
        action="append",
        default=s,
        metavar="PROJECT",
        help="project slug, repeatable (default: RELEASETAG_PROJECT, SENTRY_PROJECT, ...)",
    )


def server_url_arg(value: str) -> str:
    """``--url``'s value: an http(s) URL (a bad one is a usage error, exit 2)."""
    if not value.strip().startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(
            f"invalid server URL {value!r}: it must start with http:// or https://"
        )
    return value


def auth_token_arg(value: str) -> str:
    """``--auth-token``'s value, checked as the configuration checks a token (the message
    never holds the value)."""
    from releasetag.build.config import token_is_printable

    if not token_is_printable(value):
        raise argparse.ArgumentTypeError(
            "the token holds a space, a newline or another character a token cannot have"
        )
    return value


def add_global_arguments(parser: argparse.ArgumentParser) -> None:
    """The configuration flags on the top-level parser."""
    add_config_flags(parser)


def add_api_arguments(
    parser: argparse.ArgumentParser, *, allow_failure: bool = True, server_url: bool = True
) -> None:
    """Configuration flags, ``--json`` and ``--allow-failure`` on one command's parser
    (``server_url=False`` when the command has its own ``--url``)."""
    add_config_flags(parser, server_url=server_url)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    if allow_failure:
        parser.add_argument(
            "--allow-failure",
            action="store_true",
            help="on a reporting failure print a warning and exit 0 "
            "(also RELEASETAG_ALLOW_FAILURE=1)",
        )


def config_from_args(args: argparse.Namespace) -> Config:
    """Resolve the configuration from flags, env vars and ini files."""
    from releasetag.build.config import load_config  # only commands that talk to a server

    config = load_config(
        url=getattr(args, "url", None),
        auth_token=getattr(args, "auth_token", None),
        org=getattr(args, "org", None),
        projects=getattr(args, "projects", None),
    )
    for message in config.warnings:
        warn(message)
    return config


def client_from_args(args: argparse.Namespace) -> ApiClient:
    """An ``ApiClient`` for the configured server (the token is required)."""
    from releasetag.build.webapi.client import ApiClient

    config = config_from_args(args)
    config.require_token()
    return ApiClient(config)


def allow_failure(args: argparse.Namespace) -> bool:
    if getattr(args, "allow_failure", False):
        return True
    return env_flag(*ALLOW_FAILURE_ENV)


def api_command(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Wrap a command: ``--allow-failure`` turns a reporting failure (a ``ReleasetagError``
    with exit code 1) into a warning and exit 0. Usage errors (exit 2) still fail; ``main``
    prints every other ``ReleasetagError`` as one line."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ReleasetagError as exc:
            if exc.exit_code == 1 and allow_failure(args):
                warn(f"{exc.message.replace(ALLOW_FAILURE_HINT, '')} (ignored: --allow-failure)")
                return 0
            raise
        except Exception as exc:  # a bug must not break a pipeline that allows failures
            if allow_failure(args) and not os.environ.get("RELEASETAG_TRACEBACK"):
                warn(f"unexpected {type(exc).__name__}: {exc} (ignored: --allow-failure)")
                return 0
            raise

    return wrapper


def release_arg(value: Optional[str]) -> str:
    """A release name from the command line, checked against the naming rules (exit 2)."""
    err = release_mod.release_name_error(value)
    if err:
        raise UsageError(f"invalid release name {value!r}: {err}")
    return value  # type: ignore[return-value]
