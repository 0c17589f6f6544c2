"""The build-time Web API client (docs/protocol.md §3): ``http.ApiClient`` plus one thin module per
endpoint family (``releases``, ``repos``, ``deploys``)."""

from releasetag.build.webapi.client import ApiClient, ApiError

__all__ = ["ApiClient", "ApiError"]
