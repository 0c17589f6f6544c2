"""Celery: task failures reported with the task's name and id, under one isolation scope per
task; the producer's trace travels in the message headers so worker events link to the request
that queued the task; prefork children flush before they exit.

Enabled by default when the app imports celery (before or after init()); init() itself never
imports celery. Retry, Ignore, Reject and the exceptions a task declares in ``throws`` are not
reported. Task args and kwargs are attached only with ``send_default_pii``.
"""

from __future__ import annotations

from ..current import get_client
from ..protocol.log import internal_error
from ..scope import get_isolation_scope, use_isolation_scope
from ..serialize import serialize
from . import Integration
from . import celery_lost as _lost
from ._trace import HEADER, continue_trace, trace_header

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

    from ..types import Event, Hint

_installed = False
_active: Dict[Any, use_isolation_scope] = {}  # task id -> its entered isolation scope
_expected: Tuple[type, ...] = ()
_propagate = True  # CeleryIntegration(propagate_traces=...)


def _on_publish(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
    """Producer side: put the current trace into the message headers."""
    client = get_client()
    if client is None or client.transport is None or not isinstance(headers, dict):
        return
    try:
        if _propagate and HEADER not in headers:
            value = trace_header()
            headers[HEADER] = value
            # some Celery versions hand the worker custom headers from a nested dict
            nested = headers.get("headers")
            if isinstance(nested, dict):
                nested.setdefault(HEADER, value)
    except Exception:
        internal_error("celery: adding the trace header failed")


def _header_from(request: Any) -> Any:
    """The ``sentry-trace`` header of the message being run (None in eager mode)."""
    fields = getattr(request, "__dict__", None)
    if not fields or fields.get("is_eager"):
        return None
    value = fields.get(HEADER)
    if value is None:
        nested = fields.get("headers")
        if isinstance(nested, dict):
            value = nested.get(HEADER)
    return value


def _on_prerun(
    sender: Any = None,
    task_id: Any = None,
    task: Any = None,
    args: Any = None,
    kwargs: Any = None,
    **_: Any,
) -> None:
    """Worker side: a fresh isolation scope for the task, continuing the producer's trace."""
    client = get_client()
    if client is None or client.transport is None:
        return
    try:
        task = task or sender
        scope = get_isolation_scope().fork()
        name = getattr(task, "name", None) or "unknown"
        context: Dict[str, Any] = {"task_name": name, "task_id": task_id}
        request = getattr(task, "request", None)
        retries = getattr(request, "retries", None)
        if retries:
            context["retries"] = retries
        if client.options.send_default_pii:
            context["args"] = serialize(args)
            context["kwargs"] = serialize(kwargs)
        else:
            scope.event_processors.append(_strip_celery_frame_vars)
        scope.contexts["celery"] = context
        scope.tags["celery_task"] = name[:200]
        scope.transaction = name
        if not getattr(request, "is_eager", False):
            scope.clear_breadcrumbs()  # a worker task starts without earlier tasks' crumbs
        header = _header_from(request)
        if header:
            continue_trace(scope, header)
        sessions = client.sessions
        scope.session = sessions.start_request() if sessions is not None else None
        active = use_isolation_scope(scope)
        active.__enter__()
        _active[task_id] = active
    except Exception:
        internal_error("celery: setting up the task's scope failed")


def _strip_celery_frame_vars(event: Event, hint: Hint) -> Dict[str, Any]:
    """Without send_default_pii: Celery's own frames hold the whole message (args, kwargs,
    request), so their local variables are dropped. The task function's own locals follow
    ``include_local_variables`` like any other code."""
    for exc in (event.get("exception") or {}).get("values") or ():
        for frame in (exc.get("stacktrace") or {}).get("frames") or ():
            module = frame.get("module") or ""
            if module.startswith(("celery.", "kombu.", "billiard.")):
                frame.pop("vars", None)
    return event


def _on_postrun(sender: Any = None, task_id: Any = None, **_: Any) -> None:
    active = _active.pop(task_id, None)
    if active is None:
        return
    try:
        active.__exit__(None, None, None)
    except Exception:  # a token from another context: leave the context as it is
        pass
    session, active.scope.session = active.scope.session, None
    client = get_client()
    if session is not None and client is not None and client.sessions is not None:
        try:
            client.sessions.end_request(session)
        except Exception:
            internal_error("celery: ending the task's session failed")


def _on_failure(
    sender: Any = None, task_id: Any = None, exception: Any = None, traceback: Any = None, **_: Any
) -> None:
    client = get_client()
    if client is None or client.transport is None or exception is None:
        return
    try:
        if isinstance(exception, _expected):
            return
        if _lost.is_lost(exception):  # a prefork child died mid-task: celery_lost.py
            return _lost.task_lost(client, sender, task_id, exception)
        throws = getattr(sender, "throws", None)
        if throws:
            throws = tuple(throws) if isinstance(throws, (list, tuple)) else (throws,)
            if isinstance(exception, throws):
                return
        client.capture_exception(
            (type(exception), exception, traceback or exception.__traceback__),
            handled=False,
            mechanism_type="celery",
        )
    except Exception:
        internal_error("celery: reporting a task failure failed")


def _flush(**_: Any) -> None:
    """Before a worker (or a prefork pool child) exits: deliver what is queued."""
    client = get_client()
    if client is not None:
        client.flush(client.options.shutdown_timeout)


class CeleryIntegration(Integration):
    identifier = "celery"
    requires_module = "celery"

    def __init__(
        self,
        propagate_traces: bool = True,
        monitor_beat_tasks: bool = False,
        exclude_beat_tasks: Optional[List[str]] = None,
    ) -> None:
        self.propagate_traces = propagate_traces
        self.monitor_beat_tasks = monitor_beat_tasks
        self.exclude_beat_tasks = exclude_beat_tasks

    def setup(self, client: Any) -> None:
        global _installed, _expected, _propagate
        _propagate = self.propagate_traces
        if self.monitor_beat_tasks:  # cron check-ins of beat tasks (celery_beat.py)
            from . import celery_beat

            celery_beat.install(self.exclude_beat_tasks)
        if _installed:
            return
        from celery import signals
        from celery.exceptions import Ignore, Reject, Retry

        _expected = (Retry, Ignore, Reject)
        signals.before_task_publish.connect(_on_publish, weak=False)
        signals.task_prerun.connect(_on_prerun, weak=False)
        signals.task_postrun.connect(_on_postrun, weak=False)
        signals.task_failure.connect(_on_failure, weak=False)
        signals.worker_process_shutdown.connect(_flush, weak=False)
        signals.worker_shutdown.connect(_flush, weak=False)
        _installed = True
