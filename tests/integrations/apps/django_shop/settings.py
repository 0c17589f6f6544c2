"""A small Django project for the integration tests, under either SDK (``APP_SDK``)."""

import os

SDK = os.environ.get("APP_SDK", "releasetag")
_common = dict(
    release=os.environ.get("APP_RELEASE", "shop@5.0.0"),
    environment=os.environ.get("APP_ENVIRONMENT", "production"),
    send_default_pii=os.environ.get("APP_PII") == "1",
)
if os.environ.get("APP_DSN"):
    if SDK == "sentry":
        import sentry_sdk

        sentry_sdk.init(os.environ["APP_DSN"], **_common)
    else:
        import releasetag

        if os.environ.get("APP_STYLE"):
            from releasetag.integrations.django import DjangoIntegration

            _common["integrations"] = [DjangoIntegration(os.environ["APP_STYLE"])]
        releasetag.init(os.environ["APP_DSN"], **_common)

SECRET_KEY = "tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.integrations.apps.django_shop.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tests.integrations.apps.django_shop",
]
MIDDLEWARE = ["tests.integrations.apps.django_shop.views.header_login"]
DATABASES = {}
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
