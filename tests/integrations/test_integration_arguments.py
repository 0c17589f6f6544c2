"""Flask (gunicorn) and FastAPI (uvicorn) apps whose integrations get sentry-sdk's constructor
arguments, run side by side with sentry-sdk against the recording server; the events are
compared field by field for each ``transaction_style``."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from tests.support.recorder import Recorder
from tests.support.web_servers import WebServer

pytestmark = pytest.mark.slow

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"


def _events(kind: str, app: str, sdk: str, style: str) -> List[Dict[str, Any]]:
    recorder = Recorder()
    env = {"APP_SDK": sdk, "APP_STYLE": style, "APP_DSN": recorder.dsn()}
    server = WebServer(kind, f"tests.integrations.apps.styled_apps:{app}", env, workers=1)
    try:
        headers = {"sentry-trace": f"{TRACE}-{PARENT}-1"}
        assert server.request("/orders/7", headers=headers)[0] == 500
        assert server.request("/unavailable")[0] == 503
        want = 2 if app == "fastapi_app" else 1
        recorder.wait_for(lambda r: len(r.events()) >= want, timeout=20)
    finally:
        server.stop()
    try:
        return [e for e in recorder.events() if e.get("type") != "transaction"]
    finally:
        recorder.stop()


def _shape(event: Dict[str, Any]) -> Dict[str, Any]:
    exc = event["exception"]["values"][-1]
    return {
        "transaction": event["transaction"],
        "transaction_info": event["transaction_info"],
        "type": exc["type"],
        "mechanism": exc["mechanism"]["type"],
        "handled": exc["mechanism"]["handled"],
        "tags.order": event["tags"]["order"],
        "trace_id": event["contexts"]["trace"]["trace_id"],
        "url": event["request"]["url"].rsplit("/", 2)[-2:],
    }


EXPECTED = {
    ("flask_app", "url"): ("/orders/<order_id>", "route"),
    ("flask_app", "endpoint"): ("flask_order", "component"),
    ("fastapi_app", "url"): ("/orders/{order_id}", "route"),
    ("fastapi_app", "endpoint"): ("tests.integrations.apps.styled_apps.fastapi_order", "component"),
}


@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    "kind,app", [("gunicorn", "flask_app"), ("uvicorn", "fastapi_app")], ids=["flask", "fastapi"]
)
def test_transaction_style_and_failed_codes_like_sentry_sdk(kind, app):
    for style in ("url", "endpoint"):
        ours = _events(kind, app, "releasetag", style)
        theirs = _events(kind, app, "sentry_sdk", style)
        our_error = next(
            e
            for e in ours
            if "exception" in e and e["exception"]["values"][-1]["type"] == "ValueError"
        )
        their_error = next(
            e
            for e in theirs
            if "exception" in e and e["exception"]["values"][-1]["type"] == "ValueError"
        )
        assert _shape(our_error) == _shape(their_error), style
        name, source = EXPECTED[(app, style)]
        assert (our_error["transaction"], our_error["transaction_info"]["source"]) == (name, source)
        assert our_error["contexts"]["trace"]["trace_id"] == TRACE  # incoming header continued
        # one event each for the 503 FastAPI answered (failed_request_status_codes={503});
        # Flask's abort(503) is an answer for both
        assert len(ours) == len(theirs) == (2 if app == "fastapi_app" else 1), style
        if app == "fastapi_app":
            unavailable = [e for e in ours if e is not our_error][0]
            assert unavailable["transaction"] == (
                "/unavailable"
                if style == "url"
                else "tests.integrations.apps.styled_apps.fastapi_unavailable"
            )
