"""Every page in headless Chromium with realistic data: the demo's (``releasetag demo``)
plus a FastAPI error sent by the real SDK from an app under uvicorn (locals, request,
breadcrumbs, a chained exception). What a person looks for on each page is in the DOM the
browser built. ``UPDATE_DOCS_SCREENSHOTS=1`` copies the release and event screenshots to
docs/img/ (that is how the ones in docs/collector.md are made)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any, Dict, List

import pytest

from tests.support.chromium import Browser
from tests.support.collector import ROOT, Collector
from tests.support.web_servers import WebServer

pytestmark = [pytest.mark.slow, pytest.mark.tools("chromium")]


def _demo_data(tmp_path: Any) -> str:
    data = tmp_path / "demo"
    with open(tmp_path / "demo.out", "wb") as out:
        subprocess.run(
            [sys.executable, "-m", "releasetag", "demo", "--data", str(data)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=180,
            check=True,
        )
    return str(data / "collector")


def _fastapi_error(collector: Collector) -> Dict[str, Any]:
    app = WebServer("uvicorn", "tests.collector.apps.checkout_app:app", {"APP_DSN": collector.dsn})
    try:
        status, _ = app.post_json("/checkout/c-991?coupon=SPRING", {"items": {"book": 1, "x": 2}})
        assert status == 500
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = [e for e in collector.events() if "cannot price cart" in (e.get("title") or "")]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError("the FastAPI error did not reach the collector")
    finally:
        app.stop()


def test_every_page_in_chromium(tmp_path):
    collector = Collector(_demo_data(tmp_path))
    try:
        event = _fastapi_error(collector)
        event_id = event.get("eventID") or event["id"]
        issue = next(
            i
            for i in collector.api("GET", "/organizations/local/issues/?query=")
            if "cannot price cart" in i["title"]
        )
        browser = Browser(str(tmp_path / "profile"))
        expect: Dict[str, List[str]] = {
            f"/events/{event_id}/": [
                "ValueError", "cannot price cart c-991", "KeyError", "price_of", "cart_id",
                "Local variables", "library frame", "/checkout/c-991", "coupon", "SPRING",
                "Breadcrumbs", "cart loaded", "checkout of cart c-991 started", "Contexts",
                "runtime", "server_name", "web-7", "handled", "demo-shop@1.0.2",
            ],
            f"/issues/{issue['id']}/": [
                "Latest event", "price_of", "Resolve", "Ignore", "Events per day", "web-7",
            ],
            "/issues/": ["cannot price cart", "first seen in release", "sort by"],
            "/releases/": ["demo-shop@1.0.0", "demo-shop@1.0.2", "crash-free sessions"],
            # the demo's 52 sessions (10 crashed) and the FastAPI request that crashed: 42/53
            "/releases/demo-shop%401.0.2/": ["Health", "New issues", "79.25%"],
            "/events/": ["cannot price cart"],
            "/": ["demo-shop@1.0.1"],
        }  # fmt: skip
        for path, words in expect.items():
            dom = browser.dom(collector.url + path)
            missing = [w for w in words if w not in dom]
            assert missing == [], path
            assert re.search(r'<nav class="site">.*Releases.*Issues', dom, re.S), path
            assert "ago</time>" in dom or "just now</time>" in dom, path
        shots = {
            "release-page.png": "/releases/demo-shop%401.0.2/",
            "event-page.png": f"/events/{event_id}/",
        }
        for name, path in shots.items():
            shot = browser.screenshot(collector.url + path, name, "1280,1000")
            assert os.path.getsize(shot) > 10_000
            if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
                os.makedirs(os.path.join(ROOT, "docs", "img"), exist_ok=True)
                shutil.copy(shot, os.path.join(ROOT, "docs", "img", name))
    finally:
        collector.stop()
