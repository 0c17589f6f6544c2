"""SQLAlchemy, under sentry-sdk's name: each SQL statement an Engine runs becomes a breadcrumb
(category ``query``, the statement as message, as sentry-sdk records it) with how long it took
(``data["duration_ms"]``); a statement that fails is recorded too (like sentry-sdk,
with no level of its own). Parameters are never
recorded. Enabled by default once the program imports sqlalchemy.
"""

from __future__ import annotations

import time

from ..current import get_client
from ..protocol.log import internal_error
from . import Integration, when_imported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_installed = False
_START = "_releasetag_start"


def _before(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, *a: Any) -> None:
    if context is not None:
        try:
            setattr(context, _START, time.perf_counter())
        except Exception:
            pass


def _record(statement: Any, context: Any) -> None:
    client = get_client()
    if client is None or client.transport is None:
        return
    try:
        start = getattr(context, _START, None)
        data = {}
        if isinstance(start, float):
            data["duration_ms"] = round((time.perf_counter() - start) * 1000.0, 3)
            setattr(context, _START, None)
        crumb = {"message": str(statement), "category": "query", "type": "default", "data": data}
        client.add_breadcrumb(crumb)
    except Exception:
        internal_error("sqlalchemy: recording a query failed")


def _after(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, *a: Any) -> None:
    _record(statement, context)


def _error(exception_context: Any) -> None:
    context = getattr(exception_context, "execution_context", None)
    if context is not None and getattr(context, _START, None) is not None:
        _record(getattr(exception_context, "statement", ""), context)


def _listen() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", _before)
    event.listen(Engine, "after_cursor_execute", _after)
    event.listen(Engine, "handle_error", _error)


class SqlalchemyIntegration(Integration):
    identifier = "sqlalchemy"
    requires_module = "sqlalchemy"

    def setup(self, client: Any) -> None:
        global _installed
        if _installed:
            return
        _installed = True
        when_imported("sqlalchemy.engine", _listen)
