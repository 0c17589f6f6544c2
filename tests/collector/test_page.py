"""The collector's HTML page: escaped values, and a headless Chromium load with a screenshot."""

from __future__ import annotations

import os
import uuid

import pytest

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope
from tests.support.chromium import Browser

EVIL = "<script>alert(1)</script>"


def _seed(collector) -> str:
    dsn = Dsn.parse(collector.dsn)
    event_id = uuid.uuid4().hex
    event = {
        "event_id": event_id,
        "release": "shop@2.0",
        "environment": "production",
        "level": "error",
        "platform": "python",
        "tags": {"region": EVIL},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"bad input {EVIL}",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "app.py",
                                "function": "handle",
                                "lineno": 12,
                                "context_line": "    raise ValueError(x)",
                                "in_app": True,
                                "pre_context": ["def handle(x):"],
                            }
                        ]
                    },
                }
            ]
        },
    }
    status, _ = collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=event_envelope(event).serialize(),
        headers={"X-Sentry-Auth": dsn.auth_header()},
        token=None,
    )
    assert status == 200
    collector.api(
        "PUT",
        "/organizations/local/releases/shop@2.0/",
        {
            "commits": [
                {
                    "id": "abc123def456",
                    "repository": "acme/shop",
                    "message": f"Fix {EVIL}",
                    "author_name": "Ada",
                    "patch_set": [{"path": "app.py", "type": "M"}],
                }
            ]
        },
    )
    collector.api(
        "POST",
        "/organizations/local/releases/shop@2.0/deploys/",
        {"environment": "production", "name": "blue"},
        expect=201,
    )
    return event_id


def test_page_lists_releases_and_escapes_every_value(collector):
    event_id = _seed(collector)
    status, html = collector.request("GET", "/", token=None)
    html = html.decode()
    assert status == 200
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for text in (
        "shop@2.0",
        "production: 1",
        "abc123def456"[:12],
        "Ada",
        "M app.py",
        "blue",
        f"/events/{event_id}/",
    ):
        assert text in html
    status, page = collector.request("GET", f"/events/{event_id}/", token=None)
    page = page.decode()
    assert status == 200 and EVIL not in page
    assert "raise ValueError(x)" in page and "region" in page and "shop@2.0" in page
    assert collector.request("GET", "/events/" + "0" * 32 + "/", token=None)[0] == 404


@pytest.mark.tools("chromium")
def test_page_in_headless_chromium(collector, tmp_path):
    event_id = _seed(collector)
    browser = Browser(str(tmp_path / "profile"))
    shot = browser.screenshot(collector.url + "/", "collector-page.png", size="1280,1000")
    assert os.path.getsize(shot) > 5000
    dom = browser.dom(f"{collector.url}/events/{event_id}/")
    # the browser saw the text, not a script element
    assert "ValueError: bad input &lt;script&gt;" in dom and "<script>" not in dom
