"""asyncio: exceptions no one awaited become events (mechanism ``asyncio``, handled false).

The event loop hands such exceptions to ``call_exception_handler``: a task garbage-collected
with an exception never retrieved, a callback that raised. The integration reports the
exception there (with the task's own scope where Python keeps the task's context), then lets
the loop go on as before: to the handler the app set with ``set_exception_handler``, or to
the default one that logs it. Loops that are not ``asyncio.BaseEventLoop``s (uvloop) get a
chaining handler through :func:`watch_loop`, which the ASGI middleware calls.

Enabled by default when the program imports asyncio.
"""

from __future__ import annotations

from ..current import get_client
from ..protocol.log import internal_error
from . import Integration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict

_installed = False
MECHANISM = "asyncio"


def report(context: Dict[str, Any]) -> None:
    """Report the exception of an exception handler's ``context``, if it has one."""
    try:
        exc = context.get("exception") if isinstance(context, dict) else None
        client = get_client()
        if client is None or not isinstance(exc, Exception):
            return
        task = context.get("future") or context.get("task")
        task_context = getattr(task, "get_context", None)  # Python 3.12+: the task's context
        run = task_context().run if task_context is not None else None
        if run is not None:
            run(client.capture_exception, exc, handled=False, mechanism_type=MECHANISM)
        else:
            client.capture_exception(exc, handled=False, mechanism_type=MECHANISM)
    except Exception:
        internal_error("asyncio: reporting an exception no one awaited failed")


def watch_loop(loop: Any) -> None:
    """Make a loop whose class the integration could not patch report through its handler."""
    import asyncio

    if not _installed or isinstance(loop, asyncio.BaseEventLoop):
        return
    previous = loop.get_exception_handler()
    if getattr(previous, "_releasetag", False):
        return

    def handler(loop: Any, context: Dict[str, Any]) -> None:
        report(context)
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler._releasetag = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


class AsyncioIntegration(Integration):
    identifier = "asyncio"
    requires_module = "asyncio"

    def __init__(self, task_spans: bool = True) -> None:
        """``task_spans`` (sentry-sdk's argument) is accepted: releasetag makes no spans."""
        self.task_spans = bool(task_spans)

    def setup(self, client: Any) -> None:
        global _installed
        if _installed:
            return
        import asyncio

        original = asyncio.BaseEventLoop.call_exception_handler

        def call_exception_handler(self: Any, context: Dict[str, Any]) -> None:
            report(context)
            original(self, context)

        asyncio.BaseEventLoop.call_exception_handler = call_exception_handler  # type: ignore[method-assign]
        _installed = True
