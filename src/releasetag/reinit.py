"""A second init(): the new client takes over what the previous one was counting.

A tasks module imported by the web app often calls init() again while a request is in flight.
The previous client is closed (its queued events are flushed), but nothing counted is lost:

- requests and tasks already started end in the new client's session counts (the integrations
  hold the tracker they started with; its ``end_request`` now counts in the new tracker);
- the counts not yet sent move to the new tracker;
- the process session (application mode) carries on when release and environment are the
  same, else it ends ``exited`` under the old release;
- scopes (tags, user, breadcrumbs) are process-wide and stay as they are.

It says once on stderr that init() was called again, with the caller's file and line.
"""

from __future__ import annotations

from . import notices
from .protocol.log import internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .client import Client


def hand_over(previous: Client, client: Client) -> None:
    """Move ``previous``'s session state to ``client``, then close ``previous``."""
    notices.init_again()
    old, new = previous.sessions, client.sessions
    if old is not None and new is not None and previous.transport is not None:
        try:
            with old._lock:
                buckets, old._buckets = old._buckets, {}
            with new._lock:
                for minute, counts in buckets.items():
                    mine = new._buckets.setdefault(minute, [0, 0, 0, 0])
                    for slot, count in enumerate(counts):
                        mine[slot] += count
            if new.requests and (new._thread is None and buckets):
                new._start_flusher()
            # in-flight requests hold ``old``: they end in ``new``'s counts
            old.end_request = new.end_request  # type: ignore[method-assign]
            if old.attrs == new.attrs and old._process is not None and new.mode == old.mode:
                new._process, old._process = old._process, None
        except Exception:
            internal_error("handing the sessions to the new client failed")
    previous.close(timeout=client.options.shutdown_timeout)
