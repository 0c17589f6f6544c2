"""The local collector behind ``releasetag serve``: a WSGI app that speaks the Sentry ingest and
build-time Web API protocols and keeps everything in one SQLite file.

Modules: ``store`` (SQLite schema and queries), ``ingest`` (envelope/store endpoints),
``webapi`` (releases, commits, deploys, chunk upload, assemble), ``pages`` (HTML), ``app``
(the router), ``server`` (threaded HTTP server and first-start set-up).
"""
