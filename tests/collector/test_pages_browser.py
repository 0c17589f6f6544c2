"""Every page in headless Chromium, with an error sent by the real SDK from a FastAPI app
under uvicorn (locals, request, breadcrumbs): what a person looks for is in the DOM the
browser built. With RELEASETAG_DOCS_SHOTS=1 the release and event screenshots are copied to
docs/img/ (how the ones in docs/collector.md are made)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.collector.test_pages_reading import rich_event, send
from tests.support.chromium import Browser
from tests.support.collector import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.tools("chromium")]


def test_every_page_in_chromium(collector, tmp_path):
    event = rich_event()
    send(collector, event)
    issue = collector.api("GET", "/organizations/local/issues/?query=")[0]
    browser = Browser(str(tmp_path / "profile"))
    base = collector.url
    expect = {
        f"/events/{event['event_id']}/": ["ValueError", "checkout failed", "cart_id", "Breadcrumbs",
                                          "Request", "CPython", "server_name"],
        f"/issues/{issue['id']}/": ["Latest event", "Resolve", "Ignore", "Events per day"],
        "/issues/": ["ValueError", "status", "sort by"],
        "/releases/": ["shop@2.0", "crash-free sessions"],
        "/releases/shop%402.0/": ["Release", "shop@2.0", "New issues"],
        "/events/": ["checkout failed"],
        "/": ["shop@2.0"],
    }  # fmt: skip
    for path, words in expect.items():
        dom = browser.dom(base + path)
        for word in words:
            assert word in dom, (path, word)
        assert re.search(r"<nav class=\"site\">.*Releases.*Issues", dom, re.S), path
    shots = {
        "release-page.png": "/releases/shop%402.0/",
        "event-page.png": f"/events/{event['event_id']}/",
    }
    for name, path in shots.items():
        shot = browser.screenshot(base + path, name, "1280,1000")
        assert os.path.getsize(shot) > 10_000
        if os.environ.get("RELEASETAG_DOCS_SHOTS") == "1":
            os.makedirs(os.path.join(ROOT, "docs", "img"), exist_ok=True)
            shutil.copy(shot, os.path.join(ROOT, "docs", "img", name))
