"""``releasetag serve`` (the local collector) and ``releasetag demo`` (the whole loop, locally)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import TYPE_CHECKING, Any, Optional, Tuple

if TYPE_CHECKING:
    from ..collector.server import Collector

from releasetag.protocol.errors import ReleasetagError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve", help="run the local collector (events, releases, artifacts in SQLite)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it to your network)",
    )
    p.add_argument("--port", type=int, default=9000, help="port (default 9000; 0 = a free port)")
    p.add_argument(
        "--data",
        metavar="DIR",
        help="data folder (default: RELEASETAG_DATA or the per-user data folder)",
    )
    p.add_argument(
        "--token",
        help="API token to accept (kept for later starts; at least 16 characters). Visible "
        "to every local user in ps: prefer --token-file or RELEASETAG_SERVE_TOKEN",
    )
    p.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the API token from this file (its first line)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name clients use for this collector (a DNS name or address in their "
        "DSN); requests naming any other host are refused (DNS rebinding). Repeatable",
    )
    p.add_argument(
        "--insecure-open-pages",
        action="store_true",
        help="off loopback, serve the pages without the token (anyone who can reach the "
        "port reads every event)",
    )
    p.add_argument(
        "--page-token",
        action="store_true",
        help="ask for the token on the pages on loopback too (a machine shared with others)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the DSN, URLs, org, project and token as one JSON line",
    )
    p.add_argument(
        "--smtp",
        metavar="HOST:PORT",
        help="SMTP server for deploy notifications (mail to the authors of a "
        "release's commits); without it the collector only records who would "
        "have been told",
    )
    p.add_argument(
        "--mail-from",
        metavar="ADDRESS",
        default="releasetag@localhost",
        help="From address of deploy notifications (default releasetag@localhost)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="start a collector and run the whole release loop against it")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the collector running after the demo (until Ctrl+C)",
    )
    p.add_argument("--port", type=int, default=0, help="port (default: a free port)")
    p.add_argument("--data", metavar="DIR", help="data folder (default: a temporary folder)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_demo)


def _mailer(args: argparse.Namespace) -> Any:
    if not getattr(args, "smtp", None):
        return None
    from ..collector.notify import Mailer, parse_smtp

    try:
        host, port = parse_smtp(args.smtp)
    except ValueError as exc:
        raise ReleasetagError(str(exc), 2) from None
    if "@" not in args.mail_from or any(ch in args.mail_from for ch in "\r\n"):
        raise ReleasetagError(f"--mail-from {args.mail_from!r} is not an email address", 2)
    return Mailer(host, port, args.mail_from)


def _start(
    data: str, host: str, port: int, token: Any, mailer: Any = None, **access: Any
) -> Collector:
    from ..collector.server import Collector

    return Collector(data, host=host, port=port, token=token, mailer=mailer, **access)


TOKEN_ENV = "RELEASETAG_SERVE_TOKEN"


def _token(args: argparse.Namespace) -> Tuple[Optional[str], str]:
    """The API token the user gave and where it came from (``--token``, ``--token-file
    PATH``, ``$RELEASETAG_SERVE_TOKEN``), or (None, "") to keep the stored one."""
    from ..collector.datadir import token_problem

    env_token = os.environ.pop(TOKEN_ENV, None)  # not passed on to anything this starts
    if args.token is not None and args.token_file is not None:
        raise ReleasetagError("give the token with --token or --token-file, not both", 2)
    if args.token_file is not None:
        token, source = _read_token_file(args.token_file), f"--token-file {args.token_file}"
    elif args.token is not None:
        token, source = args.token, "--token"
    elif env_token:
        token, source = env_token, f"${TOKEN_ENV}"
    else:
        return None, ""
    problem = token_problem(token)
    if problem:
        raise ReleasetagError(f"{source}: {problem}", 2)
    return token, source


def _read_token_file(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(4096)
    except OSError as exc:
        raise ReleasetagError(
            f"cannot read --token-file {path}: {exc.strerror or exc}", 2
        ) from None
    lines = data.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        raise ReleasetagError(f"--token-file {path} is empty", 2)
    return lines[0].strip()


def _print_info(info: Any, as_json: bool, token_source: str = "") -> None:
    """The start-up info; a token given by file or environment is not printed back."""
    hidden = token_source not in ("", "--token")
    if as_json:
        fields = info.as_dict()
        if hidden:
            fields.update(token=None, token_from=token_source)
        sys.stdout.write(json.dumps(fields) + "\n")
    else:
        if info.pages_need_token:
            pages = f"{info.page}  (pages need the token: sign in at {info.page}login/)"
        else:
            pages = info.page
        token = f"(the one in {token_source})" if hidden else info.token
        sys.stdout.write(
            f"releasetag collector listening on http://{info.listen}/{_every(info.listen)}\n"
            f"  DSN:      {info.dsn}\n"
            f"  API URL:  {info.url}  (SENTRY_URL; Web API under {info.api_url})\n"
            f"  org:      {info.org}\n"
            f"  project:  {info.project}\n"
            f"  token:    {token}\n"
            f"  data:     {info.data}\n"
            f"  page:     {pages}\n"
            "Press Ctrl+C to stop.\n"
        )
    sys.stdout.flush()


def _every(listen: str) -> str:
    host = listen.rsplit(":", 1)[0].strip("[]")
    return " (every interface)" if host in ("0.0.0.0", "::") else ""


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        pass


def _secure(data: str) -> None:
    """Make the data folder private, saying what was tightened (on stderr)."""
    from ..collector.datadir import secure_data_dir

    try:
        notes = secure_data_dir(os.path.abspath(data))
    except OSError as exc:
        raise ReleasetagError(
            f"cannot use data folder {os.path.abspath(data)}: {exc.strerror or exc}"
        ) from None
    for note in notes:
        sys.stderr.write(f"note: {note}\n")


def _warn_weak_stored_token(token: str) -> None:
    from ..collector.datadir import token_problem

    if token_problem(token):
        sys.stderr.write(
            "warning: the stored API token is short or unusual; give a new one with "
            f"--token-file PATH or ${TOKEN_ENV}\n"
        )


def cmd_serve(args: argparse.Namespace) -> int:
    from ..collector.datadir import default_data_dir

    if not 0 <= args.port <= 65535:
        raise ReleasetagError(f"invalid port {args.port}: use 0-65535", 2)
    token, token_source = _token(args)
    mailer = _mailer(args)
    data = args.data or default_data_dir()
    _secure(data)
    collector = _start(
        data,
        args.host,
        args.port,
        token,
        mailer,
        open_pages=args.insecure_open_pages,
        page_token=args.page_token,
        allowed_hosts=args.allowed_host,
    )
    _stop_on_sigterm()
    # Many short requests on a few threads: hand the GIL over sooner than the 5 ms default,
    # which keeps the tail latency of concurrent senders down.
    sys.setswitchinterval(0.001)
    if token is None:
        _warn_weak_stored_token(collector.info.token)
    try:
        _print_info(collector.info, args.json, token_source)
        collector.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        collector.server.server_close()
        collector.store.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from releasetag.cli import demo

    return demo.run(args)
