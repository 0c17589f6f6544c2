import asyncio
import logging

from django.http import Http404, HttpResponse

log = logging.getLogger("shop.views")


def _tag(key, value):
    from django.conf import settings

    if settings.SDK == "sentry":
        import sentry_sdk

        sentry_sdk.set_tag(key, value)
    else:
        import releasetag

        releasetag.set_tag(key, value)


def header_login(get_response):
    """Stands for an auth middleware: ``X-User: name`` logs that user in (no database)."""

    def middleware(request):
        name = request.headers.get("X-User")
        if name:
            from django.contrib.auth.models import User

            request.user = User(pk=7, username=name, email=f"{name}@example.com")
        return get_response(request)

    return middleware


def ok(request):
    return HttpResponse("hello")


def order(request, pk):
    _tag("order", pk)
    raise ValueError(f"order {pk} failed")


async def async_order(request, pk):
    _tag("order", pk)
    await asyncio.sleep(0.01)
    raise ValueError(f"async order {pk} failed")


def logged(request, name):
    log.error("could not ship %s", name)
    return HttpResponse("logged")


def missing(request):
    raise Http404("no such thing")


def item(request, sku):
    raise KeyError(sku)
