"""``GET /api/0/organizations/{org}/sessions/``: Sentry's Sessions API over the stored
sessions (``health.run_query``).

Parameters: ``field`` (repeated: sum(session), count_unique(user), crash_free_rate(session),
crash_free_rate(user), crash_rate(session)), ``groupBy`` (release, environment, project,
session.status), ``statsPeriod`` (24h) or ``start``/``end``, ``interval`` (1h),
``project`` (repeated ids; -1 or none: all), ``environment`` (repeated) and ``query``
(``release:X``, ``release:"X"``, ``environment:E``; space-separated tokens are ANDed).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from releasetag.protocol.errors import UsageError
from releasetag.protocol.session_fields import parse_period
from releasetag.protocol.timefmt import parse_time

from . import health
from .context import Context, require_org
from .request_response import HTTPError, Request, Response, json_response

_TOKEN = re.compile(r'([\w.-]+):(?:"([^"]*)"|(\S+))|(\S+)')


def parse_filter(text: str) -> Dict[str, List[str]]:
    """``release:X environment:Y`` as {"release": [X], "environment": [Y]}; 400 otherwise."""
    out: Dict[str, List[str]] = {}
    for key, quoted, plain, bare in _TOKEN.findall(text or ""):
        if bare:
            raise HTTPError(400, f"invalid query {bare!r}: use release:VERSION or environment:ENV")
        key = key.lower()
        if key not in ("release", "environment"):
            raise HTTPError(400, f"unsupported query key {key!r}: use release: or environment:")
        value = quoted if quoted or not plain else plain
        out.setdefault(key, []).append(value)
    return out


def _time_param(req: Request, name: str) -> Optional[float]:
    value = req.query.get(name)
    if not value:
        return None
    try:
        return parse_time(value, name).timestamp()
    except UsageError as exc:
        raise HTTPError(400, str(exc)) from None


def sessions(ctx: Context, req: Request, org: str) -> Response:
    require_org(ctx, org)
    projects: Optional[List[int]] = None
    values = [v for v in req.query_all("project") if v not in ("", "-1")]
    if values:
        if not all(v.isdigit() for v in values):
            raise HTTPError(400, "project must be a numeric project id (or -1 for all)")
        projects = [int(v) for v in values]
    filters = parse_filter(req.query.get("query", ""))
    environments = req.query_all("environment") or None
    if "environment" in filters:
        environments = [
            e for e in filters["environment"] if environments is None or e in environments
        ]
    try:
        query = health.SessionsQuery(
            req.query_all("field"),
            req.query_all("groupBy"),
            start=_time_param(req, "start"),
            end=_time_param(req, "end"),
            period=parse_period(req.query.get("statsPeriod") or "24h"),
            interval=parse_period(req.query.get("interval") or "1h", "interval"),
            project_ids=projects,
            releases=filters.get("release"),
            environments=environments,
        )
    except ValueError as exc:
        raise HTTPError(400, str(exc)) from None
    answer: Dict[str, Any] = health.run_query(ctx.store, query)
    answer["query"] = req.query.get("query", "")
    return json_response(answer)


ROUTES = [("GET", r"/api/0/organizations/(?P<org>[^/]+)/sessions/", sessions)]
