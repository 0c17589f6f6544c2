"""What the Web API handlers share: the collector's context, the token check, and lookups
and body checks that answer with one-line HTTP errors."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

from releasetag.collector.db.store import Store

from .request_response import HTTPError, Request


class Context:
    """What the handlers share: the store and the org, project and token of this collector."""

    def __init__(
        self, store: Store, org: str, token: str, mailer: Any = None, access: Any = None
    ) -> None:
        from .access import Access

        self.store = store
        self.org = org
        self.token = token
        self.mailer = mailer  # notify.Mailer when ``--smtp`` is given, else None
        self.access: Access = access or Access("127.0.0.1", token)


class TooManyFailures(HTTPError):
    """429: too many wrong tokens from this client address lately."""

    def __init__(self, wait: float) -> None:
        self.retry_after = max(1, math.ceil(wait))
        super().__init__(
            429,
            f"too many wrong tokens from this address: try again in {self.retry_after} s",
        )


def client_of(req: Request) -> str:
    """The key failed token checks are counted under (see ``access.client_key``)."""
    from .access import client_key

    return client_key(req.environ.get("REMOTE_ADDR"))


def check_token(ctx: Context, req: Request) -> None:
    """401 unless the request carries ``Authorization: Bearer <this collector's token>``;
    429 after too many wrong ones from the same address (``access.FailureLimit``)."""
    auth = req.header("Authorization") or ""
    scheme, _, token = auth.partition(" ")
    if not auth:
        raise HTTPError(401, "missing API token (send Authorization: Bearer <token>)")
    client = client_of(req)
    wait = ctx.access.failures.wait(client)
    if wait:
        raise TooManyFailures(wait)
    if scheme.lower() not in ("bearer", "token") or not ctx.access.token_matches(token):
        ctx.access.failures.failed(client)
        raise HTTPError(401, "invalid API token")


def require_org(ctx: Context, org: str) -> None:
    if org != ctx.org:
        raise HTTPError(404, f"unknown organization {org!r} (this collector has {ctx.org!r})")


def require_project(ctx: Context, org: str, project: str) -> Any:
    require_org(ctx, org)
    row = ctx.store.project(project)
    if row is None:
        raise HTTPError(404, f"unknown project {project!r}")
    return row


def require_release(ctx: Context, org: str, version: str) -> Any:
    require_org(ctx, org)
    row = ctx.store.release(version)
    if row is None:
        raise HTTPError(404, f"release {version!r} does not exist")
    return row


def body_object(req: Request) -> Dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise HTTPError(400, "request body must be a JSON object")
    return body


def opt_str(body: Dict[str, Any], key: str, limit: int = 1000) -> Optional[str]:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{key} must be a string")
    if len(value) > limit:
        raise HTTPError(400, f"{key} is longer than {limit} characters")
    return value


def resolve_projects(ctx: Context, slugs: Any) -> List[int]:
    if slugs is None:
        return []
    if not isinstance(slugs, list):
        raise HTTPError(400, "projects must be a list of project slugs")
    ids = []
    for slug in slugs:
        row = ctx.store.project(slug) if isinstance(slug, (str, int)) else None
        if row is None:
            raise HTTPError(400, f"invalid project slug {slug!r}")
        ids.append(row["id"])
    return ids
