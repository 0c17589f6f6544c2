"""The one HTTP client layer of the package, shared by the runtime transport and the
build-time Web API client: connections on the standard library's ``http.client`` with
proxies, ``no_proxy``, CA bundles, TCP_NODELAY, keep-alive and an overall deadline
(``httpconn``), and what the environment says about reaching a server (``netenv``)."""
