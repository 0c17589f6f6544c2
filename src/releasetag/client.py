"""The client: options, the event pipeline (a list of small processors) and the transport.

Pipeline for every event: build -> scopes -> defaults (release, environment, ...) -> scrub
-> scope event processors -> before_send -> transport. A processor returns the event (maybe
changed) or None to drop it; every drop is counted with its reason.
"""

from __future__ import annotations

import time
from threading import get_ident

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Envelope, Item
from releasetag.protocol.log import get_logger, internal_error

from . import scope as scope_mod
from .client_telemetry import TelemetryMixin
from .event import (
    FrameBuilder,
    exc_info_from,
    exception_values,
    message_payload,
    new_event_id,
    runtime_contexts,
    sdk_info,
)
from .options import Options, resolve_options
from .scope import Scope
from .scrub import DEFAULT_SCRUBBER, Scrubber
from .serialize import safe_str
from .session_tracking import SessionTracker, error_outcome
from .transport import reports

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing, logging and random stay out of init() (measured in bench/)
    from typing import Any, Callable, Dict, List, Optional, Set, Tuple

    from .telemetry import Batcher
    from .transport.base import SendResult, Transport
    from .types import Breadcrumb, Event, EventProcessor, Hint

_LEVELS = ("debug", "info", "warning", "error", "fatal")
_CAPTURED_FLAG = "__releasetag_captured__"
_MAX_DEFERRED = 100  # captures re-entered on one thread (a signal storm) kept for later


class Client(TelemetryMixin):
    """Turns exceptions and messages into events and hands them to the transport."""

    def __init__(self, dsn: Optional[str] = None, **options: Any) -> None:
        self.options: Options = resolve_options(dsn, **options)
        self.dsn: Optional[Dsn] = Dsn.parse(self.options.dsn) if self.options.dsn else None
        self.transport: Optional[Transport] = None
        if self.dsn is not None or self.options.transport is not None:
            from .transport import make_transport

            self.transport = make_transport(self.options)
        self.frames = FrameBuilder(
            self.options.in_app_include,
            self.options.in_app_exclude,
            self.options.include_local_variables,
            self.options.include_source_context,
        )
        self.integrations: Dict[str, Any] = {}
        self._contexts = runtime_contexts()
        self._last_exc: Any = None
        self.last_event_id: Optional[str] = None
        # threads inside a capture right now, and the captures that re-entered one of them
        # (a signal handler that captures while the main thread is capturing): run after it
        self._inside: Set[int] = set()
        self._deferred: List[Tuple[int, Callable[[], Any]]] = []
        self.processors: List[Tuple[str, EventProcessor]] = [
            ("scope", self._apply_scopes),
            ("defaults", self._apply_defaults),
        ]
        scrubber = _scrubber_for(self.options)
        self.log_scrubber: Optional[Scrubber] = scrubber  # logs and metrics: bodies, attributes
        self._batchers: Dict[str, Batcher] = {}  # "log", "trace_metric": made at first use
        self._telemetry_defaults: Optional[Dict[str, Any]] = None
        if scrubber is not None:
            self.processors.append(("scrub", lambda event, hint: scrubber.scrub_event(event)))
        if self.options.max_value_length or self.options.attach_stacktrace:
            from . import compat_events as compat

            if self.options.max_value_length:
                self.processors.append(
                    ("max_value_length", compat.value_limiter(self.options.max_value_length))
                )
            if self.options.attach_stacktrace:
                self.processors.append(("attach_stacktrace", compat.stack_attacher(self.frames)))
        self.sessions: Optional[SessionTracker] = None
        if self.transport is not None:
            opts = self.options
            self.sessions = SessionTracker(
                opts.session_mode,
                opts.release,
                opts.environment,
                self._send_sessions,
                opts.session_flush_interval,
                user=self._session_user,
                prepare=self.transport.prepare,
            )
        self._set_sdk_info()

    def __enter__(self) -> "Client":  # ``with init(...):`` as with sentry-sdk: closed at the end
        return self

    def __exit__(self, *exc: Any) -> None:
        from . import current

        if current.get_client() is self:
            current.set_client(None)
        self.close()

    def is_active(self) -> bool:  # sentry-sdk's name
        return self.transport is not None

    @property
    def active(self) -> bool:
        """True when events can be sent (a DSN or transport is configured)."""
        return self.transport is not None

    def _set_sdk_info(self) -> None:
        self.sdk = sdk_info(list(self.integrations))
        if self.transport is not None:
            self.transport.set_sdk_info(self.sdk)

    # --- capture ------------------------------------------------------------------------
    def capture_exception(
        self,
        error: Any = None,
        *,
        scope: Optional[Scope] = None,
        handled: bool = True,
        mechanism_type: str = "generic",
        hint: Optional[Hint] = None,
        event: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        """Capture ``error`` (default: the exception being handled); return the event id."""
        if self.transport is None:
            return None
        ident = get_ident()
        if ident in self._inside:
            info = exc_info_from(error)  # now: the exception being handled is the handler's
            if info is None:
                return None
            data = _with_event_id(event)
            return self._defer(
                ident,
                lambda: self.capture_exception(
                    info,
                    scope=_scope_now(scope),
                    handled=handled,
                    mechanism_type=mechanism_type,
                    hint=hint,
                    event=data,
                ),
                data,
            )
        self._inside.add(ident)
        try:
            exc_info = exc_info_from(error)
            if exc_info is None:
                return None
            exc = exc_info[1]
            if self._is_duplicate(exc) or self._is_ignored(exc):
                return None
            update = self._session_error(not handled)
            if not self._sampled():
                return None
            data = event if event is not None else {}
            data["level"] = data.get("level") or "error"  # unhandled too, as sentry-sdk sends it
            data["exception"] = {
                "values": exception_values(
                    exc, self.frames, handled=handled, mechanism_type=mechanism_type
                )
            }
            full_hint = {"exc_info": exc_info}
            if hint:
                full_hint.update(hint)
            return self._process(data, full_hint, scope, update)
        except Exception:
            internal_error("capture_exception failed")
            self.transport_stats_lost(reports.INTERNAL_SDK_ERROR)
            return None
        finally:
            self._leave(ident)

    def capture_message(
        self,
        text: Any,
        level: str = "info",
        *,
        scope: Optional[Scope] = None,
        params: Any = None,
        event: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        """Capture a message event; return the event id (None when not sent)."""
        if self.transport is None:
            return None
        ident = get_ident()
        if ident in self._inside:
            data = _with_event_id(event)
            return self._defer(
                ident,
                lambda: self.capture_message(
                    text, level, scope=_scope_now(scope), params=params, event=data
                ),
                data,
            )
        self._inside.add(ident)
        try:
            level = level if level in _LEVELS else "info"
            update = self._session_error(False) if level in ("error", "fatal") else None
            if not self._sampled():
                return None
            data = event if event is not None else {}
            data["level"] = level
            data["logentry"] = message_payload(text, params)
            return self._process(data, {}, scope, update)
        except Exception:
            internal_error("capture_message failed")
            self.transport_stats_lost(reports.INTERNAL_SDK_ERROR)
            return None
        finally:
            self._leave(ident)

    def capture_event(
        self,
        event: Event,
        hint: Optional[Hint] = None,
        *,
        scope: Optional[Scope] = None,
    ) -> Optional[str]:
        """Capture a ready event dict (it goes through the same pipeline)."""
        if self.transport is None:
            return None
        ident = get_ident()
        if ident in self._inside:
            data = _with_event_id(event)
            return self._defer(
                ident, lambda: self.capture_event(data, hint, scope=_scope_now(scope)), data
            )
        self._inside.add(ident)
        try:
            errored, crashed = error_outcome(event)
            update = self._session_error(crashed) if errored else None
            if not self._sampled():
                return None
            return self._process(dict(event), hint or {}, scope, update)
        except Exception:
            internal_error("capture_event failed")
            self.transport_stats_lost(reports.INTERNAL_SDK_ERROR)
            return None
        finally:
            self._leave(ident)

    def _defer(
        self, ident: int, capture: Callable[[], Any], event: Dict[str, Any]
    ) -> Optional[str]:
        """A capture that re-entered a capture on the same thread (a signal handler, or a log
        call made inside the pipeline): run it when the outer one is done, never inside it,
        where a first-use import or a lock may be half-way. Returns its event id."""
        if len(self._deferred) >= _MAX_DEFERRED:
            self.transport_stats_lost(reports.QUEUE_OVERFLOW)
            return None
        self._deferred.append((ident, capture))
        return str(event["event_id"])

    def _leave(self, ident: int) -> None:
        """End of a capture on this thread: run the captures that re-entered it."""
        self._inside.discard(ident)
        if not self._deferred:
            return
        while True:
            mine = next((entry for entry in self._deferred if entry[0] == ident), None)
            if mine is None:
                return
            try:
                self._deferred.remove(mine)
            except ValueError:
                continue
            mine[1]()

    def _is_duplicate(self, exc: BaseException) -> bool:
        if exc is self._last_exc:
            return True
        try:
            if getattr(exc, _CAPTURED_FLAG, False):
                return True
            setattr(exc, _CAPTURED_FLAG, True)
        except Exception:
            pass
        self._last_exc = exc
        return False

    def _is_ignored(self, exc: BaseException) -> bool:
        for ignored in self.options.ignore_errors:
            if isinstance(ignored, type) and isinstance(exc, ignored):
                return True
            if isinstance(ignored, str) and ignored in (
                type(exc).__name__,
                f"{type(exc).__module__}.{type(exc).__qualname__}",
            ):
                return True
        return False

    def _sampled(self) -> bool:
        rate = self.options.sample_rate
        if rate >= 1.0:
            return True
        import random

        if random.random() < rate:
            return True
        self.transport_stats_lost(reports.SAMPLE_RATE)
        return False

    def transport_stats_lost(self, reason: str, category: str = "error") -> None:
        """Count an event the client dropped (shown in delivery_stats, client reports)."""
        if self.transport is not None:
            self.transport.record_lost(reason, category)

    def _session_error(self, crashed: bool) -> Optional[Item]:
        """Count an error in the request's session (or the process session); the process
        session's update to send along with the event, if any."""
        sessions = self.sessions
        if sessions is None:
            return None
        return sessions.on_error(crashed, scope_mod.get_isolation_scope().session)

    def _session_user(self) -> Optional[str]:
        """The ``did`` of a process session: the scopes' user id (email and username too
        with ``send_default_pii``)."""
        for scope in reversed(scope_mod.scopes_for_event()):
            user = scope.user
            if user:
                keys = ("id", "email", "username") if self.options.send_default_pii else ("id",)
                for key in keys:
                    if user.get(key):
                        return str(user[key])[:128]
        return None

    def _send_sessions(self, envelope: Envelope) -> bool:
        transport = self.transport
        if transport is None:
            return False
        return bool(transport.send_envelope(envelope))

    def _process(
        self,
        event: Optional[Event],
        hint: Hint,
        scope: Optional[Scope],
        session_update: Optional[Item] = None,
    ) -> Optional[str]:
        assert event is not None
        event.setdefault("event_id", new_event_id())
        hint["_scope"] = scope
        for _name, processor in self.processors:
            event = processor(event, hint)
            if event is None:
                self.transport_stats_lost(reports.EVENT_PROCESSOR)
                return None
        for processor in hint.pop("_event_processors", ()):
            try:
                event = processor(event, hint)
            except Exception:
                get_logger().debug("event processor %r failed", processor, exc_info=True)
            if event is None:
                self.transport_stats_lost(reports.EVENT_PROCESSOR)
                return None
        hint.pop("_scope", None)
        attachments = hint.pop("_attachments", None)
        if self.options.before_send is not None:
            try:
                event = self.options.before_send(event, hint)
            except Exception:
                get_logger().warning("before_send raised; the event is dropped", exc_info=True)
                event = None
            if event is None:
                self.transport_stats_lost(reports.BEFORE_SEND)
                return None
        event_id = event.get("event_id")
        transport = self.transport
        if transport is None:  # closed by another thread meanwhile
            return None
        if session_update is not None or attachments:
            from .compat_events import attachment_items

            items = [session_update] if session_update is not None else []
            if transport.capture_event_with(event, items + attachment_items(attachments or [])):
                self.last_event_id = event_id
                return event_id
            return None
        if transport.capture_event(event):
            self.last_event_id = event_id
            return event_id
        return None

    # --- processors ---------------------------------------------------------------------
    def _apply_scopes(self, event: Event, hint: Hint) -> Dict[str, Any]:
        tags: Dict[str, str] = {}
        extra: Dict[str, Any] = {}
        contexts: Dict[str, Any] = {}
        crumbs: List[Dict[str, Any]] = []
        processors: List[Any] = []
        user: Any = None
        attachments: List[Any] = []
        for scope in scope_mod.scopes_for_event(hint.get("_scope")):
            tags.update(scope.tags)
            extra.update(scope.extra)
            contexts.update(scope.contexts)
            if scope.user:  # the innermost scope's user, whole (sentry-sdk replaces it too)
                user = scope.user
            attachments.extend(scope.attachments)
            if scope.level:  # every event, exceptions too (as sentry-sdk)
                event["level"] = scope.level
            if scope.fingerprint:
                event["fingerprint"] = list(scope.fingerprint)
            if scope.transaction:
                event["transaction"] = scope.transaction
            if scope.breadcrumbs:
                crumbs.extend(scope.breadcrumbs)
            processors.extend(scope.event_processors)
        if user and not event.get("user"):
            event["user"] = dict(user)
        if attachments:
            hint["_attachments"] = attachments
        span = scope_mod.active_span.get()
        if span is not None:  # releasetag.tracing: the active span's trace context
            span.apply_to_event(event, contexts)
        if tags:
            event["tags"] = {**tags, **(event.get("tags") or {})}
        if extra:
            event["extra"] = {**extra, **(event.get("extra") or {})}
        if contexts:
            event["contexts"] = {**contexts, **(event.get("contexts") or {})}
        if crumbs:
            if len(crumbs) > 1:
                crumbs.sort(key=_crumb_time)
            crumbs = crumbs[-self.options.max_breadcrumbs :] if self.options.max_breadcrumbs else []
            # copies, so the scope's ring buffer is not changed by scrubbing or trimming
            event["breadcrumbs"] = {"values": [dict(c) for c in crumbs]}
        if processors:
            hint["_event_processors"] = processors
        return event

    def _apply_defaults(self, event: Event, hint: Hint) -> Dict[str, Any]:
        opts = self.options
        event.setdefault("timestamp", time.time())
        event.setdefault("platform", "python")
        if opts.release and "release" not in event:
            event["release"] = opts.release
        event.setdefault("environment", opts.environment)
        if opts.dist and "dist" not in event:
            event["dist"] = opts.dist
        if opts.server_name and "server_name" not in event:
            event["server_name"] = opts.server_name
        contexts = event.setdefault("contexts", {})
        for key, value in self._contexts.items():
            contexts.setdefault(key, value)
        event["sdk"] = self.sdk
        return event

    # --- breadcrumbs --------------------------------------------------------------------
    def add_breadcrumb(self, crumb: Breadcrumb, hint: Optional[Hint] = None) -> None:
        """Record a breadcrumb in the isolation scope (after before_breadcrumb)."""
        if self.transport is None or self.options.max_breadcrumbs <= 0:
            return
        try:
            crumb.setdefault("timestamp", time.time())
            if "message" in crumb and not isinstance(crumb["message"], str):
                crumb["message"] = safe_str(crumb["message"])
            before = self.options.before_breadcrumb
            if before is not None:
                kept: Optional[Breadcrumb] = crumb
                try:
                    kept = before(crumb, hint or {})
                except Exception:
                    get_logger().debug("before_breadcrumb failed", exc_info=True)
                if not kept:
                    return
                crumb = kept
            scope_mod.get_isolation_scope().add_breadcrumb(crumb)
        except Exception:
            internal_error("add_breadcrumb failed")

    # --- delivery -----------------------------------------------------------------------
    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until queued events are delivered; False if ``timeout`` passed first."""
        if self.transport is None:
            return True
        try:
            self.flush_telemetry()
            if self.sessions is not None:
                self.sessions.flush()
            return bool(
                self.transport.flush(self.options.shutdown_timeout if timeout is None else timeout)
            )
        except Exception:
            internal_error("flush failed")
            return False

    def send_now(self, timeout: Optional[float] = None) -> SendResult:
        """Flush and return the transport's last send result (used by ``send-event``)."""
        from .transport.base import SendResult

        if not self.flush(timeout):
            last = self.transport.last_send_result() if self.transport is not None else None
            if last is not None and not last.ok:
                return last  # e.g. connection refused: say so, not "no answer"
            return SendResult(False, None, f"no answer within {timeout} seconds")
        last = self.transport.last_send_result() if self.transport is not None else None
        return last or SendResult(False, None, "nothing sent")

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flush within ``timeout`` and stop delivery; the client sends nothing afterwards."""
        self.end_sessions()
        self.flush_telemetry(stop=True)
        transport, self.transport = self.transport, None
        if transport is None:
            return True
        try:
            return bool(
                transport.close(self.options.shutdown_timeout if timeout is None else timeout)
            )
        except Exception:
            internal_error("close failed")
            return False

    def end_sessions(self, status: str = "exited") -> None:
        """End the process session with ``status`` and queue every counted session."""
        sessions = self.sessions
        if sessions is not None and self.transport is not None:
            try:
                sessions.close(status)
            except Exception:
                internal_error("ending the sessions failed")

    def delivery_stats(self) -> Dict[str, Any]:
        """Counts of sent, queued, spooled and dropped (by reason) events."""
        if self.transport is None:
            return no_delivery_stats()
        return self.transport.delivery_stats()


def _with_event_id(event: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """A copy of ``event`` (or a new dict) with its event id set now."""
    data = dict(event) if event is not None else {}
    data.setdefault("event_id", new_event_id())
    return data


def _scope_now(scope: Optional[Scope]) -> Optional[Scope]:
    """The scope a deferred capture keeps: the given one, else the current one now."""
    return scope if scope is not None else scope_mod.get_current_scope()


def _crumb_time(crumb: Breadcrumb) -> float:
    value = crumb.get("timestamp")
    return float(value) if isinstance(value, (int, float)) else 0.0


def _scrubber_for(options: Options) -> Optional[Scrubber]:
    """The scrubber the options ask for: keys and PII headers unless ``send_default_pii``,
    values unless ``scrub_values=False``; None when neither."""
    keys, values = not options.send_default_pii, bool(options.scrub_values)
    if options.event_scrubber is not None:
        from .compat_events import scrubber_from

        return scrubber_from(options, keys, values)
    if not keys and not values:
        return None
    if keys and values and not options.scrub_patterns and not options.scrub_allow:
        return DEFAULT_SCRUBBER
    return Scrubber(
        keys=keys, values=values, patterns=options.scrub_patterns, allow=options.scrub_allow
    )


def no_delivery_stats() -> Dict[str, Any]:
    """``delivery_stats()`` of a process that sends nothing (no init, or no DSN)."""
    return {
        "sent": 0,
        "queued": 0,
        "backlog": 0,
        "spooled": 0,
        "retries": 0,
        "dropped": {},
        "dropped_total": 0,
    }
