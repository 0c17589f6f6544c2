"""FastAPI, under sentry-sdk's name: a FastAPI app is a Starlette app, so this is the
Starlette integration (same arguments, same events); it is listed as ``fastapi`` in
``sdk.integrations``. Give either; arguments given to the one given last win."""

from __future__ import annotations

from .starlette import StarletteIntegration


class FastApiIntegration(StarletteIntegration):
    identifier = "fastapi"
