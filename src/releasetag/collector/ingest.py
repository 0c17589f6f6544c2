"""Ingest endpoints (docs/protocol.md §1): ``/api/{project_id}/envelope/`` and ``/store/``.

Checks the key, undoes gzip/deflate, parses with ``releasetag.protocol.envelope``, stores the
event in one SQLite transaction and only then answers ``200 {"id": ...}``.
"""

from __future__ import annotations

import os
import re
import uuid
import weakref
from typing import Any, Dict, List, Optional, Tuple

from releasetag.collector.db.store import Store, to_iso
from releasetag.detect.env import is_true
from releasetag.protocol import jsonfmt
from releasetag.protocol.dsn import Dsn, parse_auth_header
from releasetag.protocol.envelope import Envelope, EnvelopeError, Item
from releasetag.protocol.release import release_name_error

from . import log_intake, monitor_rules, session_intake
from .grouping import exception_values
from .native import NativeResolver
from .request_response import HTTPError, Request, Response, json_response
from .unminify import Resolver

MAX_ENVELOPE = 20 * 1024 * 1024  # raw (possibly compressed) envelope body
MAX_ENVELOPE_INFLATED = 40 * 1024 * 1024
MAX_EVENT = 1024 * 1024  # one event payload
MAX_ATTACHMENT = 20 * 1024 * 1024
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _request_key(req: Request) -> Optional[str]:
    header = req.header("X-Sentry-Auth")
    if header:
        key = parse_auth_header(header).get("sentry_key")
        if key:
            return key
    auth = req.header("Authorization") or ""
    if auth.lower().startswith("sentry "):
        key = parse_auth_header(auth).get("sentry_key")
        if key:
            return key
    return req.query.get("sentry_key") or None


def _project_for(store: Store, req: Request, project_id: str, key: Optional[str]) -> Any:
    project = store.project(project_id) if project_id.isdigit() else None
    if project is None:
        raise HTTPError(404, f"unknown project {project_id}")
    if not key:
        raise HTTPError(401, "missing sentry_key (send X-Sentry-Auth or ?sentry_key=)")
    if key != project["public_key"]:
        raise HTTPError(401, f"invalid sentry_key for project {project_id}")
    return project


def normalize_event_id(value: Any) -> Optional[str]:
    """A 32-hex event id (hyphens removed, lowercased), or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    text = value.replace("-", "").lower()
    return text if _HEX32.match(text) else None


def summarize(event: Dict[str, Any], event_id: str) -> Dict[str, Any]:
    """The indexed columns of an event: title, exception, release, environment, ..."""

    def text(value: Any, limit: int = 1000) -> Optional[str]:
        if value is None:
            return None
        return (value if isinstance(value, str) else str(value))[:limit]

    exc_type = exc_value = culprit = None
    values = exception_values(event)
    if values:
        last = values[-1]
        exc_type, exc_value = text(last.get("type")), text(last.get("value"))
        frames = (
            (last.get("stacktrace") or {}).get("frames") or []
            if isinstance(last.get("stacktrace"), dict)
            else []
        )
        in_app = [f for f in frames if isinstance(f, dict) and f.get("in_app")] or [
            f for f in frames if isinstance(f, dict)
        ]
        if in_app:
            f = in_app[-1]
            culprit = text(
                f"{f.get('module') or f.get('filename') or '?'} in {f.get('function') or '?'}"
            )
    message = None
    logentry = event.get("logentry")
    msg = event.get("message")
    if isinstance(logentry, dict):
        message = logentry.get("formatted") or logentry.get("message")
    if message is None and isinstance(msg, dict):
        message = msg.get("formatted") or msg.get("message")
    elif message is None and msg is not None:
        message = msg
    message = text(message)
    if exc_type:
        title = f"{exc_type}: {exc_value}" if exc_value else exc_type
    else:
        title = (message or "<no message>").split("\n", 1)[0]
    return {
        "event_id": event_id,
        "timestamp": to_iso(event.get("timestamp")),
        "level": text(event.get("level") or "error", 20),
        "platform": text(event.get("platform"), 50),
        "release": text(event.get("release"), 250),
        "environment": text(event.get("environment"), 250),
        "dist": text(event.get("dist"), 64),
        "title": text(title, 500),
        "message": message,
        "exception_type": exc_type,
        "exception_value": exc_value,
        "culprit": text(event.get("transaction") or culprit, 500),
    }


def _event_from(payload: Any, fallback_id: Optional[str]) -> Dict[str, Any]:
    if not isinstance(payload, dict):
        raise HTTPError(400, "event payload must be a JSON object")
    event_id = payload.get("event_id")
    if event_id is not None:
        event_id = normalize_event_id(event_id)
        if event_id is None:
            raise HTTPError(400, "event_id must be 32 hexadecimal digits")
    else:
        event_id = fallback_id or uuid.uuid4().hex
    payload["event_id"] = event_id
    for key in ("release", "environment", "dist"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            raise HTTPError(400, f"event {key} must be a string")
    return payload


# RELEASETAG_UNMINIFY=0 stores frames as they came (no sourcemap or symbol resolution)
UNMINIFY = is_true(os.environ.get("RELEASETAG_UNMINIFY", "1"))
_resolvers: "weakref.WeakKeyDictionary[Store, Tuple[Resolver, NativeResolver]]" = (
    weakref.WeakKeyDictionary()
)


def resolvers_for(store: Store) -> Tuple[Resolver, NativeResolver]:
    """The store's sourcemap and native resolvers (sharing one bounded cache)."""
    found = _resolvers.get(store)
    if found is None:
        js = Resolver(store)
        found = _resolvers.setdefault(store, (js, NativeResolver(store, js.cache)))
    return found


def _store_event(
    store: Store,
    project_id: int,
    event: Dict[str, Any],
    attachments: List[Dict[str, Any]],
    reports: Optional[List[Dict[str, Any]]] = None,
) -> str:
    if UNMINIFY:  # before grouping: issues key on the original frames
        js, native = resolvers_for(store)
        js.resolve_event(event)
        native.resolve_event(project_id, event)
    summary = summarize(event, event["event_id"])
    release = summary.get("release")
    valid = bool(release) and release_name_error(release) is None
    store.insert_event(
        project_id, event, summary, attachments, release_valid=valid, client_reports=reports or ()
    )
    return event["event_id"]


def handle_envelope(store: Store, req: Request, project_id: str) -> Response:
    """POST /api/{project_id}/envelope/."""
    key = _request_key(req)
    project = _project_for(store, req, project_id, key) if key else None
    body = req.body(MAX_ENVELOPE, MAX_ENVELOPE_INFLATED)
    try:
        envelope = Envelope.parse(body)
    except EnvelopeError as exc:
        raise HTTPError(400, f"malformed envelope: {exc}") from None
    if project is None:
        project = _project_for(store, req, project_id, _dsn_key(envelope))
    header_id = envelope.headers.get("event_id")
    if header_id is not None and normalize_event_id(header_id) is None:
        raise HTTPError(400, "envelope header event_id must be 32 hexadecimal digits")
    items = _Items(normalize_event_id(header_id))
    for number, item in enumerate(envelope.items):
        items.add(number, item)
    return json_response(items.store(store, project["id"]))


def _dsn_key(envelope: Envelope) -> Optional[str]:
    """The public key of the envelope's ``dsn`` header (None without one)."""
    if not isinstance(envelope.headers.get("dsn"), str):
        return None
    try:
        return Dsn.parse(envelope.headers["dsn"]).public_key
    except ValueError:
        raise HTTPError(401, "the envelope's dsn header is not a valid DSN") from None


class _Items:
    """What an envelope's items carry, checked one item at a time, then stored."""

    def __init__(self, header_id: Optional[str]) -> None:
        self.header_id = header_id
        self.event: Optional[Dict[str, Any]] = None
        self.attachments: List[Dict[str, Any]] = []
        self.reports: List[Dict[str, Any]] = []
        self.updates: List[Dict[str, Any]] = []
        self.counts: List[Dict[str, Any]] = []
        self.rejected: List[Dict[str, Any]] = []
        self.check_ins: List[Tuple[int, Item]] = []
        self.logs = log_intake.LogItems()

    def add(self, number: int, item: Item) -> None:
        """Take one item (HTTPError for one that fails the whole envelope); transactions
        and other item types are accepted and not kept."""
        kind = item.type
        if kind == "event":
            self._event(item)
        elif kind == "attachment":
            if len(item.payload) > MAX_ATTACHMENT:
                raise HTTPError(413, f"attachment is over the limit of {MAX_ATTACHMENT} bytes")
            self.attachments.append(
                {
                    "filename": str(item.headers.get("filename") or "attachment"),
                    "content_type": item.headers.get("content_type"),
                    "attachment_type": item.headers.get("attachment_type"),
                    "data": item.payload,
                }
            )
        elif kind == "client_report":
            try:
                report = item.json()
            except EnvelopeError as exc:
                raise HTTPError(400, f"malformed envelope: {exc}") from None
            if not isinstance(report, dict):
                raise HTTPError(400, "client_report payload must be a JSON object")
            self.reports.append(report)
        elif kind == "check_in":  # cron monitors (collector/monitor_intake.py)
            self.check_ins.append((number, item))
        elif kind in ("session", "sessions"):
            try:
                self._session(kind, item)
            except session_intake.Rejected as exc:
                self.rejected.append({"item": number, "type": kind, "reason": str(exc)})
        elif kind in ("log", "trace_metric"):
            self.logs.add(item)

    def _event(self, item: Item) -> None:
        if self.event is not None:
            raise HTTPError(400, "envelope has more than one event item")
        if len(item.payload) > MAX_EVENT:
            raise HTTPError(
                413, f"event is {len(item.payload)} bytes, over the limit of {MAX_EVENT} bytes"
            )
        try:
            self.event = _event_from(item.json(), self.header_id)
        except EnvelopeError as exc:
            raise HTTPError(400, f"malformed envelope: {exc}") from None

    def _session(self, kind: str, item: Item) -> None:
        if len(item.payload) > MAX_EVENT:
            raise session_intake.Rejected(f"payload is over {MAX_EVENT} bytes")
        try:
            payload = item.json()
        except EnvelopeError as exc:
            raise session_intake.Rejected(str(exc)) from None
        if kind == "session":
            self.updates.append(session_intake.session_update(payload))
        else:
            self.counts.extend(session_intake.session_counts(payload))

    def store(self, store: Store, project_id: int) -> Dict[str, Any]:
        """Store what was taken; the answer to send (``id``, and ``rejected`` items)."""
        if self.event is not None:
            _store_event(store, project_id, self.event, self.attachments, self.reports)
        elif self.reports:
            store.insert_client_reports(project_id, self.reports)
        if self.check_ins:
            self.rejected.extend(monitor_rules.take_check_ins(store, project_id, self.check_ins))
        if self.updates or self.counts or self.rejected:
            store.insert_sessions(
                project_id,
                self.updates,
                self.counts,
                [(r["type"], r["reason"]) for r in self.rejected],
            )
        if self.logs:
            self.logs.store(store, project_id)
        answer: Dict[str, Any] = {
            "id": self.event["event_id"] if self.event is not None else self.header_id
        }
        if self.rejected:
            answer["rejected"] = self.rejected
        return answer


def handle_store(store: Store, req: Request, project_id: str) -> Response:
    """POST /api/{project_id}/store/: one bare event JSON (the legacy endpoint)."""
    key = _request_key(req)
    project = _project_for(store, req, project_id, key)
    data = req.body(MAX_EVENT * 2, MAX_EVENT)
    if len(data) > MAX_EVENT:
        raise HTTPError(413, f"event is over the limit of {MAX_EVENT} bytes")
    try:
        payload = jsonfmt.loads(data, "event")
    except jsonfmt.JsonError as exc:
        raise HTTPError(400, str(exc)) from None
    event = _event_from(payload, None)
    return json_response({"id": _store_event(store, project["id"], event, [])})
