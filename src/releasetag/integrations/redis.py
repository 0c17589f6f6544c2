"""Redis, under sentry-sdk's name: each command of a ``redis.Redis`` client (and each pipeline
execution) becomes a breadcrumb with sentry-sdk's category, message and data keys, plus how long
it took (``data["duration_ms"]``).

The message is the command with its key; the other arguments show only with
``send_default_pii`` (else ``[Filtered]``), and never for AUTH. ``max_data_size`` (sentry-sdk's
argument) shortens the message. Enabled by default once the program imports redis.
"""

from __future__ import annotations

import time

from ..current import get_client
from ..protocol.log import internal_error
from . import Integration, when_imported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence

_installed = False
_max_size: List[Optional[int]] = [None]
_MAX_ARGS = 10  # arguments shown in a message, as sentry-sdk shows them
_SECRET_COMMANDS = frozenset(("auth",))
FILTERED = "[Filtered]"


def command_message(name: str, args: Sequence[Any], pii: bool) -> str:
    """``SET 'key' [Filtered]``: the command, its key, and the rest only with ``pii``."""
    parts = [name]
    secret = name.lower() in _SECRET_COMMANDS
    for index, arg in enumerate(args):
        if index >= _MAX_ARGS:
            break
        parts.append(FILTERED if secret or (index and not pii) else repr(arg))
    text = " ".join(parts)
    limit = _max_size[0]
    if isinstance(limit, int) and limit > 0 and len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return text


def _record(message: str, data: Dict[str, Any], start: float) -> None:
    client = get_client()
    if client is None or client.transport is None:
        return
    try:
        data["duration_ms"] = round((time.perf_counter() - start) * 1000.0, 3)
        crumb = {"message": message, "type": "redis", "category": "redis", "data": data}
        client.add_breadcrumb(crumb)
    except Exception:
        internal_error("redis: recording a command failed")


def _command_crumb(args: Sequence[Any], start: float) -> None:
    client = get_client()
    if client is None or not args:
        return
    name = str(args[0])
    pii = bool(client.options.send_default_pii)
    data: Dict[str, Any] = {"redis.is_cluster": False, "redis.command": name}
    data["db.operation"] = name
    if len(args) > 1:
        key = args[1]
        if isinstance(key, (str, bytes, int, float)):
            data["redis.key"] = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    _record(command_message(name, args[1:], pii), data, start)


def _patch() -> None:
    import redis.client

    redis_cls = redis.client.Redis
    pipeline_cls = redis.client.Pipeline
    execute_command, execute = redis_cls.execute_command, pipeline_cls.execute

    def releasetag_execute_command(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute_command(self, *args, **kwargs)
        finally:
            _command_crumb(args, start)

    def releasetag_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        transaction = bool(getattr(self, "transaction", False))
        try:
            return execute(self, *args, **kwargs)
        finally:
            data = {"redis.is_cluster": False, "redis.transaction": transaction}
            _record("redis.pipeline.execute", data, start)

    redis_cls.execute_command = releasetag_execute_command  # type: ignore[method-assign]
    pipeline_cls.execute = releasetag_execute  # type: ignore[method-assign]


class RedisIntegration(Integration):
    identifier = "redis"
    requires_module = "redis"

    def __init__(self, max_data_size: Optional[int] = None, cache_prefixes: Any = None) -> None:
        """sentry-sdk's arguments: ``max_data_size`` shortens messages; ``cache_prefixes`` is
        accepted (it makes cache spans in sentry-sdk; releasetag makes no spans)."""
        self.max_data_size = max_data_size
        self.cache_prefixes = cache_prefixes

    def setup(self, client: Any) -> None:
        global _installed
        _max_size[0] = self.max_data_size
        if _installed:
            return
        _installed = True
        when_imported("redis.client", _patch)
