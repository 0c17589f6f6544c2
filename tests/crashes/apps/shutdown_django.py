"""A one-module Django project (settings and URLs) for ``manage.py runserver``: init() in the
settings as the docs say; every request captures a message, /boom raises, /slow takes a
second."""

import os
import time

import releasetag

releasetag.init(os.environ["APP_DSN"], release="site@4.0", spool_dir=os.environ["APP_SPOOL"])

SECRET_KEY = "tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list = []
MIDDLEWARE: list = []
DATABASES: dict = {}
LOGGING = {"version": 1, "disable_existing_loggers": False}


def view(request):
    from django.http import HttpResponse

    if request.path == "/slow":
        time.sleep(1.0)
    if request.path == "/boom":
        raise RuntimeError("boom")
    releasetag.capture_message(f"served {request.path}")
    return HttpResponse(b"ok")


def _urls():
    from django.urls import re_path

    return [re_path(r"^", view)]


urlpatterns = _urls()
