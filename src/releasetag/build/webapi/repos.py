"""Repository endpoints: the organization's repositories known to the server."""

from __future__ import annotations

from urllib.parse import quote

from releasetag.build.webapi.client import ApiClient

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List


def list_repos(client: ApiClient, org: str) -> List[Dict[str, Any]]:
    """All repositories of ``org`` (every page): ``[{id, name, url, provider, ...}]``."""
    return client.list_all(
        f"/organizations/{quote(org, safe='')}/repos/", not_found=f"organization {org!r} not found"
    )
