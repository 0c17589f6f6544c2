"""Django under gunicorn (WSGI, 2 workers) and uvicorn (ASGI), and its management commands,
against the recording server; the same requests under sentry-sdk for the fields we share."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Dict

import pytest

from tests.integrations.conftest import relay_errors
from tests.support.recorder import ROOT, Recorder
from tests.support.web_servers import WebServer

pytestmark = pytest.mark.slow

APPS = {
    "gunicorn": "tests.integrations.apps.django_shop.wsgi:application",
    "uvicorn": "tests.integrations.apps.django_shop.asgi:application",
}
SETTINGS = "tests.integrations.apps.django_shop.settings"


def _key(event: Dict) -> str:
    if "exception" in event:
        exc = event["exception"]["values"][-1]
        return f"{exc['type']}: {exc['value']}"
    return event["logentry"]["formatted"]


def _run(kind: str, sdk: str, **env: str) -> Dict[str, Dict]:
    recorder = Recorder()
    server = WebServer(
        kind,
        APPS[kind],
        {"APP_SDK": sdk, "APP_DSN": recorder.dsn(), "DJANGO_SETTINGS_MODULE": SETTINGS, **env},
    )
    try:
        assert server.request("/ok/") == (200, b"hello")
        headers = {"Cookie": "sessionid=s3cr3t", "X-User": "ada"}
        assert server.request("/orders/41/?page=2", headers=headers)[0] == 500
        assert server.request("/async/orders/42/")[0] == 500
        assert server.request("/logged/parcel-9/")[0] == 200
        assert server.request("/missing/")[0] == 404
        assert server.request("/api/v1/items/sku-1/")[0] == 500
        recorder.wait_for(lambda r: len(r.events()) >= 4, timeout=20)
    finally:
        server.stop()
    try:
        events = recorder.events()
        if sdk == "sentry":  # it reports Django refusing uvicorn's lifespan scope as an error
            events = [e for e in events if "not lifespan" not in _key(e)]
        by_key = {_key(e): e for e in events}
        assert len(by_key) == len(events) == 4, sorted(by_key)
        return by_key
    finally:
        recorder.stop()


def _no_port(url: str) -> str:
    return re.sub(r":\d+/", "/", url)


EXPECTED = {
    "ValueError: order 41 failed": "/orders/<int:pk>/",
    "ValueError: async order 42 failed": "/async/orders/<int:pk>/",
    "could not ship parcel-9": "/logged/<slug:name>/",
    "KeyError: 'sku-1'": "/api/v1/items/<slug:sku>/",
}


@pytest.mark.timeout(150)
@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_django_requests_match_sentry_sdk(kind):
    ours = _run(kind, "releasetag")
    theirs = _run(kind, "sentry")
    assert sorted(ours) == sorted(theirs) == sorted(EXPECTED)  # Http404 is not an error
    for key, route in EXPECTED.items():
        event, peer = ours[key], theirs[key]
        assert event["transaction"] == route, key
        assert event["transaction_info"] == {"source": "route"}
        # sentry-sdk writes the same pattern as /orders/{pk}/: only the converters differ
        assert peer["transaction"].replace("{", "").replace("}", "") == "".join(
            part.split(":")[-1] for part in route.replace(">", "<").split("<")
        )
        assert event["level"] == peer["level"] == "error"
        assert event["request"]["method"] == peer["request"]["method"] == "GET"
        assert _no_port(event["request"]["url"]) == _no_port(peer["request"]["url"]), key
        if "exception" in event:
            mech = event["exception"]["values"][-1]["mechanism"]
            peer_mech = peer["exception"]["values"][-1]["mechanism"]
            assert (mech["type"], mech["handled"]) == ("django", False)
            assert (peer_mech["type"], peer_mech["handled"]) == ("django", False)
        assert relay_errors(event) is None, key
        assert event["release"] == "shop@5.0.0"
    order = ours["ValueError: order 41 failed"]
    assert order["tags"]["order"] == "41"
    assert order["request"]["query_string"] == "page=2"
    assert "s3cr3t" not in repr(order)
    assert "user" not in order  # no user without send_default_pii
    assert "django" in order["sdk"]["integrations"]
    frames = order["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "order" and frames[-1]["in_app"] is True
    assert ours["ValueError: async order 42 failed"]["tags"]["order"] == "42"


@pytest.mark.timeout(90)
def test_django_user_with_pii_and_view_names_by_option():
    ours = _run("uvicorn", "releasetag", APP_PII="1", APP_STYLE="function_name")
    order = ours["ValueError: order 41 failed"]
    assert order["user"]["id"] == "7"
    assert order["user"]["username"] == "ada"
    assert order["user"]["email"] == "ada@example.com"
    assert order["transaction"] == "tests.integrations.apps.django_shop.views.order"
    assert ours["KeyError: 'sku-1'"]["transaction"].endswith("views.item")
    assert "user" not in ours["KeyError: 'sku-1'"] or "id" not in ours["KeyError: 'sku-1'"]["user"]


def _manage(recorder: Recorder, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "APP_DSN": recorder.dsn(),
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.timeout(90)
def test_management_command_errors_carry_the_command_name(recorder):
    done = _manage(recorder, "reindex")
    assert done.returncode == 1 and "index broken" in done.stderr
    events = recorder.wait_for(lambda r: (lambda e: e if len(e) >= 2 else None)(r.events()))
    assert len(events) == 2  # the log line and the exception, reported once
    for event in events:
        assert event["transaction"] == "manage.py reindex"
    crash = [e for e in events if "exception" in e][0]
    mech = crash["exception"]["values"][-1]["mechanism"]
    assert mech["type"] == "django" and mech["handled"] is False
    recorder.reset()
    refused = _manage(recorder, "reindex", "--refuse")
    assert refused.returncode == 1 and "refusing to reindex" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert recorder.events() == []  # a CommandError is the command's answer, not a crash
