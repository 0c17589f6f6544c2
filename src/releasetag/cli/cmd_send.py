"""``send-event`` and ``send-envelope``: test events and stored envelopes to the DSN, with
sentry-cli's flags.

An event built from flags (or read from a JSON file) goes through the runtime client, so it
is scrubbed like any other event: ``extra.environ`` (sent unless ``--no-environ``, as
sentry-cli does) keeps its names but not the values of secret-looking variables. ``--raw``
files and envelopes are posted as they are.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from releasetag.protocol.errors import InputError, ReleasetagError, UsageError

from .output import emit, safe

LEVELS = ("debug", "info", "warning", "error", "fatal")
MAX_BREADCRUMBS = 100  # the last lines of --logfile, as sentry-cli
MAX_FILE_BYTES = 20 * 1024 * 1024


def _pair(flag: str) -> Callable[[str], Tuple[str, str]]:
    """argparse type: ``KEY:VALUE`` (the value may hold further colons)."""

    def parse(text: str) -> Tuple[str, str]:
        key, sep, value = text.partition(":")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"expected KEY:VALUE, got {text!r}")
        return key, value

    parse.__name__ = flag
    return parse


def register(sub: Any) -> None:
    p = sub.add_parser(
        "send-event",
        help="send a test event (or JSON event files) to the DSN, as sentry-cli send-event",
    )
    p.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="path or glob of JSON event files to send (the other event flags are ignored)",
    )
    p.add_argument("--raw", action="store_true", help="send the files unchanged")
    p.add_argument("-m", "--message", action="append", help="message line (repeatable)")
    p.add_argument(
        "-a", "--message-arg", dest="message_args", action="append", help="message parameter"
    )
    p.add_argument("-l", "--level", default="error", choices=LEVELS, help="default: error")
    p.add_argument("-r", "--release", help="release (default: detected)")
    p.add_argument("-d", "--dist", help="distribution")
    p.add_argument("-E", "--env", dest="environment", help="environment (default: detected)")
    p.add_argument("-p", "--platform", default="other", help="platform (default: other)")
    p.add_argument("-t", "--tag", action="append", default=[], type=_pair("tag"), metavar="K:V")
    p.add_argument("-e", "--extra", action="append", default=[], type=_pair("extra"), metavar="K:V")
    p.add_argument(
        "-u",
        "--user",
        action="append",
        default=[],
        type=_pair("user"),
        metavar="K:V",
        help="user field (id, username, email, ip_address or any other key)",
    )
    p.add_argument("-f", "--fingerprint", action="append", help="fingerprint part (repeatable)")
    p.add_argument("--logfile", metavar="PATH", help="send its last 100 lines as breadcrumbs")
    p.add_argument(
        "--with-categories",
        action="store_true",
        help="with --logfile: a leading 'category: ' of a line becomes the breadcrumb category",
    )
    p.add_argument("--no-environ", action="store_true", help="leave out the environment variables")
    p.add_argument("--timestamp", help="event time: unix seconds, RFC 2822 or RFC 3339")
    _transport_args(p)
    p.set_defaults(func=cmd_send_event)

    p = sub.add_parser("send-envelope", help="send stored envelope files to the DSN")
    p.add_argument("path", metavar="PATH", help="path or glob of envelope files")
    p.add_argument("--raw", action="store_true", help="send the files without checking they parse")
    _transport_args(p)
    p.set_defaults(func=cmd_send_envelope)


def _transport_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dsn", help="DSN (default: RELEASETAG_DSN or SENTRY_DSN)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the server")
    p.add_argument("--json", action="store_true", help="machine-readable output")


# --- the client -----------------------------------------------------------------------
def _client(args: argparse.Namespace, **options: Any) -> Any:
    import releasetag

    dsn = args.dsn or os.environ.get("RELEASETAG_DSN") or os.environ.get("SENTRY_DSN")
    if not dsn:
        raise UsageError("no DSN: pass --dsn or set RELEASETAG_DSN (or SENTRY_DSN)")
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be above 0, got {args.timeout:g}")
    from releasetag import notices

    notices.mark_said(notices.KEY_REFUSED)  # the command reports the server's answer itself
    try:
        return releasetag.Client(dsn=dsn, default_integrations=False, **options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _post(client: Any, data: bytes, what: str) -> None:
    """POST serialized envelope bytes at once; a refusal is one line."""
    result = client.transport.post(data)
    if not result.ok:
        raise ReleasetagError(f"the server did not accept {what}: {result.reason}")


def _files(pattern: str) -> List[str]:
    paths = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not paths:
        if os.path.isdir(pattern):
            raise InputError(f"{pattern} is a folder: name the files or a glob like {pattern}/*")
        raise InputError(f"no files match {pattern!r}")
    return paths


def _read(path: str) -> bytes:
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise InputError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


# --- send-event -----------------------------------------------------------------------
def cmd_send_event(args: argparse.Namespace) -> int:
    if args.path:
        return _send_event_files(args)
    if not args.message:
        raise UsageError("send-event needs -m/--message or a PATH of JSON event files")
    event = build_event(args)
    client = _client(
        args, release=event.pop("release", None), environment=event.pop("environment", None)
    )
    try:
        event_id = client.capture_event(event)
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
        f"Event dispatched.\nEvent id: {event_id}",
    )
    return 0


def build_event(args: argparse.Namespace) -> Dict[str, Any]:
    """The event sentry-cli would make of these flags (release and environment detected
    when not given; the client fills in the rest)."""
    from releasetag.detect import release as detection
    from releasetag.protocol import release as release_mod

    if args.release is not None:
        err = release_mod.release_name_error(args.release)
        if err:
            raise UsageError(f"invalid release name {args.release!r}: {err}")
    if args.dist is not None:
        err = release_mod.dist_error(args.dist)
        if err:
            raise UsageError(f"invalid dist {args.dist!r}: {err}")
    event: Dict[str, Any] = {
        "level": args.level,
        "platform": args.platform,
        "logentry": {"message": "\n".join(args.message), "params": list(args.message_args or [])},
        "release": args.release or detection.detect_release(),
        "environment": args.environment or detection.detect_environment(),
    }
    if args.dist:
        event["dist"] = args.dist
    if args.timestamp:
        event["timestamp"] = _timestamp(args.timestamp)
    if args.tag:
        event["tags"] = dict(args.tag)
    extra: Dict[str, Any] = {}
    if not args.no_environ:
        extra["environ"] = dict(os.environ)
    extra.update(dict(args.extra))
    if extra:
        event["extra"] = extra
    if args.user:
        event["user"] = dict(args.user)
    if args.fingerprint:
        event["fingerprint"] = list(args.fingerprint)
    if args.logfile:
        event["breadcrumbs"] = {"values": logfile_breadcrumbs(args.logfile, args.with_categories)}
    return event


def _timestamp(text: str) -> float:
    """Unix seconds, RFC 3339 / ISO 8601 or RFC 2822, as unix seconds."""
    from releasetag.protocol.timefmt import parse_time

    try:
        return parse_time(text, "--timestamp").timestamp()
    except UsageError:
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError, IndexError):
            raise UsageError(
                f"invalid time {text!r} for --timestamp: use unix seconds, RFC 3339 "
                "(2024-05-01T10:00:00Z) or RFC 2822 (Wed, 01 May 2024 10:00:00 +0000)"
            ) from None


def logfile_breadcrumbs(path: str, with_categories: bool) -> List[Dict[str, Any]]:
    """The last ``MAX_BREADCRUMBS`` lines of ``path`` as breadcrumbs (a leading ISO time is
    the breadcrumb's time, else the file's modification time)."""
    import collections
    import re

    try:
        with open(path, "rb") as fh:
            lines = collections.deque(fh, MAX_BREADCRUMBS)
        mtime = os.path.getmtime(path)
    except OSError as exc:
        raise InputError(f"cannot read --logfile {path}: {exc.strerror or exc}") from None
    stamp = re.compile(
        r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\]?\s*"
    )
    category = re.compile(r"^([^:]+): (.*)$")  # sentry-cli's "component: message"
    out = []
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line.strip():
            continue
        when = mtime
        m = stamp.match(line)
        if m:
            when = _line_time(m.group(1), mtime)
            line = line[m.end() :]
        crumb: Dict[str, Any] = {"timestamp": when, "category": "log", "message": line}
        c = category.match(line) if with_categories else None
        if c:
            crumb.update(category=c.group(1), message=c.group(2))
            level = c.group(1).lower()
            level = {"warn": "warning", "err": "error", "critical": "fatal"}.get(level, level)
            if level in LEVELS:
                crumb["level"] = level
        out.append(crumb)
    return out


def _line_time(text: str, default: float) -> float:
    from datetime import datetime, timezone

    text = text.replace(",", ".").replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return default
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def _send_files(args: argparse.Namespace, send_one: Any, dispatched: Any, key: str) -> int:
    """Send each file ``args.path`` names with ``send_one(client, path, data) -> event id``;
    print ``dispatched(path, event_id)`` per file, or the list with --json."""
    paths = _files(args.path)
    client = _client(args)
    sent: List[Dict[str, Optional[str]]] = []
    try:
        for path in paths:
            event_id = send_one(client, path, _read(path))
            sent.append({"path": path, "event_id": event_id})
            if not args.json:
                sys.stdout.write(safe(dispatched(path, event_id)) + "\n")
    finally:
        client.close(timeout=0)
    if args.json:
        emit(args, {key: sent})
    return 0


def _send_event_files(args: argparse.Namespace) -> int:
    from releasetag.protocol.envelope import Envelope, Item

    def send_one(client: Any, path: str, data: bytes) -> Optional[str]:
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise InputError(f"{path}: not JSON ({exc})") from None
        if not isinstance(event, dict):
            raise InputError(f"{path}: an event is a JSON object, got {type(event).__name__}")
        if args.raw:  # the file's bytes as the event item, unchanged
            event_id = _event_id(event)
            envelope = Envelope({"event_id": event_id}, [Item.from_bytes("event", data)])
            _post(client, envelope.serialize(), path)
            return event_id
        event_id = client.capture_event(event)
        result = client.send_now(timeout=args.timeout)
        if event_id is None:
            raise ReleasetagError(f"{path}: the event was dropped before sending")
        if not result.ok:
            raise ReleasetagError(
                f"the server did not accept the event from {path}: {result.reason}"
            )
        return event_id

    return _send_files(
        args, send_one, lambda path, eid: f"Event from file {path} dispatched: {eid}", "events"
    )


def _event_id(event: Dict[str, Any]) -> str:
    value = event.get("event_id")
    try:
        return uuid.UUID(str(value)).hex if value else uuid.uuid4().hex
    except ValueError:
        return uuid.uuid4().hex


# --- send-envelope --------------------------------------------------------------------
def cmd_send_envelope(args: argparse.Namespace) -> int:
    from releasetag.protocol.envelope import Envelope, EnvelopeError

    def send_one(client: Any, path: str, data: bytes) -> Optional[str]:
        event_id = None
        if not args.raw:
            try:
                envelope = Envelope.parse(data)
            except EnvelopeError as exc:
                raise InputError(f"{path}: not an envelope ({exc})") from None
            if not envelope.items:
                raise InputError(f"{path}: the envelope has no items")
            event_id = envelope.headers.get("event_id")
        _post(client, data, f"the envelope {path}")
        return event_id

    return _send_files(
        args, send_one, lambda path, _: f"Envelope from file {path} dispatched", "envelopes"
    )


__all__ = ["register", "build_event", "logfile_breadcrumbs"]
