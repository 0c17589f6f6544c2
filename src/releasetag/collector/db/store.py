"""The collector's database: :class:`Store` is every query module's methods on one open
database.

The SQL lives in the module of what it keeps, each with a mixin of ``Store`` methods (what the
rest of the collector calls) and module functions that take a connection ``c`` (steps that run
inside another query's transaction):

- ``database``: connections, transactions, group commit; ``schema``: tables and migrations;
- ``projects``: meta settings and projects;
- ``events``: events, attachments and client reports; ``issues``: issues (groups),
  regressions and commit references;
- ``releases``: releases, repositories, commits and deploys; ``notifications``: deploy mail;
- ``artifacts``: chunks, bundles, release files and debug files;
- ``sessions``: release health (session updates, aggregates, rejected items).

Events are grouped into issues (``groups``, see ``grouping.py``) inside the transaction that
stores them; events of a database from before grouping are grouped when it is opened.
"""

from __future__ import annotations

from typing import Sequence, Tuple

from . import schema
from .artifacts import ArtifactsQueries
from .database import new_key, to_iso
from .events import EventsQueries
from .issues import IssuesQueries
from .logs import LogsQueries
from .monitors import MonitorsQueries
from .notifications import NotificationsQueries
from .projects import ProjectsQueries
from .releases import ReleasesQueries
from .sessions import SessionsQueries

__all__ = ["Store", "new_key", "to_iso"]


class Store(
    ProjectsQueries,
    EventsQueries,
    IssuesQueries,
    ReleasesQueries,
    NotificationsQueries,
    ArtifactsQueries,
    SessionsQueries,
    MonitorsQueries,
    LogsQueries,
):
    """The collector's database: open with a path (upgraded to the newest schema, refused
    when newer), then call the query methods from any thread."""

    def __init__(self, path: str, migrations: Sequence[Tuple[int, schema.Step]] = ()) -> None:
        super().__init__(path, migrations)
        if self.has_ungrouped_events():
            self.backfill()  # a database from before issues: group its events
