"""A one-view Django project for bench/scn_web.py under gunicorn: settings, URLs and the WSGI
application in one module. ``BENCH_WEB_SDK`` is bare, releasetag or sentry_sdk (each SDK's
own automatic Django support)."""

from __future__ import annotations

import os

_SDK = os.environ.get("BENCH_WEB_SDK", "bare")
_DSN = os.environ.get("BENCH_DSN", "")
if _SDK == "releasetag":
    import releasetag

    releasetag.init(_DSN, release="bench@1.0", environment="bench")
elif _SDK == "sentry_sdk":
    import sentry_sdk

    sentry_sdk.init(_DSN, release="bench@1.0", environment="bench")

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.apps.django_bench"
INSTALLED_APPS: list = []
MIDDLEWARE: list = []
DATABASES: dict = {}


def hello(request):
    from django.http import HttpResponse

    return HttpResponse("hello", content_type="text/plain")


def _urls():
    from django.urls import path

    return [path("hello", hello)]


def __getattr__(name):  # urlpatterns once Django is set up (this module is also the settings)
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


def application(environ, start_response):
    return _wsgi()(environ, start_response)


_app = []


def _wsgi():
    if not _app:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.apps.django_bench")
        from django.core.wsgi import get_wsgi_application

        _app.append(get_wsgi_application())
    return _app[0]
