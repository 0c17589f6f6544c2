"""Deploy endpoints: record a deploy of a release, list them."""

from __future__ import annotations

from releasetag.build.webapi.client import ApiClient
from releasetag.build.webapi.releases import release_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence


def new_deploy(
    client: ApiClient,
    org: str,
    version: str,
    environment: str,
    *,
    name: Optional[str] = None,
    url: Optional[str] = None,
    date_started: Optional[str] = None,
    date_finished: Optional[str] = None,
    projects: Optional[Sequence[str]] = None,
) -> Dict[str, Any]:
    """POST a deploy; unset optional fields are sent as null (as sentry-cli does)."""
    body: Dict[str, Any] = {
        "environment": environment,
        "name": name,
        "url": url,
        "dateStarted": date_started,
        "dateFinished": date_finished,
    }
    if projects:
        body["projects"] = list(projects)
    return (
        client.json(
            "POST",
            release_path(org, version) + "deploys/",
            json=body,
            not_found=f"release {version!r} not found in organization {org!r}",
        )
        or {}
    )


def list_deploys(client: ApiClient, org: str, version: str) -> List[Any]:
    return client.list_all(
        release_path(org, version) + "deploys/",
        not_found=f"release {version!r} not found in organization {org!r}",
    )
