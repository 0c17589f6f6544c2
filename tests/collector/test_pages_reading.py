"""The pages a developer debugs an error on, against a real collector: every captured detail
on the event page, the issue stream's filters and sorts, the issue page's cards and actions
(refused without the form token or from another origin, nothing changed), /releases/ and
/events/, and trimmed values that say what was left out."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
import uuid
from typing import Dict, Optional, Tuple
from urllib.parse import urlencode

import pytest

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import event_envelope

pytestmark = pytest.mark.slow


def rich_event(release: str = "shop@2.0", **over) -> dict:
    now = time.time()
    event = {
        "event_id": uuid.uuid4().hex,
        "release": release,
        "environment": "production",
        "level": "error",
        "platform": "python",
        "server_name": "web-7",
        "transaction": "/checkout",
        "timestamp": now,
        "tags": {"region": "eu-west"},
        "user": {"id": "42", "email": "ann@example.com"},
        "request": {
            "method": "POST",
            "url": "http://shop.example/checkout",
            "query_string": "coupon=SPRING",
            "headers": {"User-Agent": "curl/8", "Authorization": "[Filtered]"},
            "data": {"cart": [1, 2, 3]},
        },
        "breadcrumbs": {
            "values": [
                {
                    "timestamp": now - 5,
                    "category": "http",
                    "level": "info",
                    "message": "GET /cart",
                    "data": {"status_code": 200},
                },
                {
                    "timestamp": now - 1,
                    "category": "db",
                    "level": "warning",
                    "message": "slow query",
                },
            ]
        },
        "contexts": {
            "runtime": {"name": "CPython", "version": "3.12.1"},
            "os": {"name": "Linux"},
            "trace": {"trace_id": "a" * 32, "span_id": "b" * 16},
        },
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'sku'",
                    "mechanism": {"type": "generic", "handled": True},
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "shop/cart.py",
                                "function": "lookup",
                                "lineno": 9,
                                "context_line": "    return items['sku']",
                                "in_app": True,
                                "vars": {"items": "{}"},
                            },
                        ]
                    },
                },
                {
                    "type": "ValueError",
                    "value": "checkout failed",
                    "mechanism": {"type": "starlette", "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "starlette/routing.py",
                                "function": "handle",
                                "lineno": 70,
                                "in_app": False,
                                "vars": {"scope": "{'type': 'http'}"},
                            },
                            {
                                "filename": "shop/views.py",
                                "function": "checkout",
                                "lineno": 31,
                                "context_line": "    raise ValueError('checkout failed')",
                                "in_app": True,
                                "vars": {"cart_id": "'c-991'", "total": "129.5"},
                            },
                        ]
                    },
                },
            ]
        },
    }
    event.update(over)
    return event


def send(collector, event: dict) -> None:
    dsn = Dsn.parse(collector.dsn)
    status, _ = collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=event_envelope(event).serialize(),
        headers={"X-Sentry-Auth": dsn.auth_header()},
        token=None,
    )
    assert status == 200


def get(collector, path: str, cookie: str = "") -> Tuple[int, str, Dict[str, str]]:
    req = urllib.request.Request(collector.url + path, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def post(collector, path: str, fields: dict, cookie: str, origin: Optional[str]) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    if origin is not None:
        headers["Origin"] = origin
    req = urllib.request.Request(
        collector.url + path, data=urlencode(fields).encode(), headers=headers, method="POST"
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_event_page_shows_every_captured_detail(collector):
    event = rich_event()
    send(collector, event)
    status, page, _ = get(collector, f"/events/{event['event_id']}/")
    assert status == 200
    # the chain, raised last first, the in-app frame open and the library frame folded
    assert page.index("ValueError") < page.index("KeyError")
    assert re.search(r'<details class="frame inapp" open><summary><code>shop/views.py', page)
    assert re.search(r"<details class=lib><summary>1 library frame</summary>", page)
    assert "cart_id" in page and "&#x27;c-991&#x27;" in page  # locals
    assert "http://shop.example/checkout" in page and "coupon" in page and "[Filtered]" in page
    assert "ann@example.com" in page  # user
    assert "GET /cart" in page and "slow query" in page and "status_code" in page  # breadcrumbs
    assert "CPython" in page and "trace_id" in page  # contexts
    for tag in ("handled", "mechanism", "transaction", "server_name", "runtime", "region"):
        assert f"<span class=muted>{tag}</span>" in page, tag
    assert "web-7" in page and "CPython 3.12.1" in page
    assert "<tr><th>event id</th><td><code>" in page and "<th>release</th>" in page
    assert "<th>message</th><td>" not in page and "<th>logger</th>" not in page  # no empty rows
    assert "<time datetime=" in page and ' UTC"' in page
    assert "<script" not in page and "http://fonts" not in page


def test_odd_and_huge_values_render_trimmed_and_say_what_was_left_out(collector):
    deep: dict = {}
    node = deep
    for _ in range(30):
        node["next"] = {}
        node = node["next"]
    event = rich_event(
        breadcrumbs=[{"message": "m%d" % i, "data": {"i": i}} for i in range(499)]
        + [{"message": "last", "data": deep}, "not a crumb", 7],
        contexts={"big": {f"k{i}": "v" * 50 for i in range(200)}, "odd": [1, "two", None]},
        extra={"nested": deep, "list": list(range(1000))},
    )
    event["exception"]["values"][1]["stacktrace"]["frames"][1]["vars"] = {
        "huge": "x" * 20000,
        "weird": [[[[[[["deep"]]]]]]],
        3: "int key",
    }
    send(collector, event)
    status, page, _ = get(collector, f"/events/{event['event_id']}/")
    assert status == 200
    assert "400 older breadcrumbs left out" in page
    assert "more characters" in page and "nested too deep, left out" in page
    assert "more left out" in page
    assert len(page) < 3_000_000


def _issue_ids(collector) -> Dict[str, str]:
    return {
        i["title"]: i["id"] for i in collector.api("GET", "/organizations/local/issues/?query=")
    }


def test_issue_stream_filters_sorts_and_pages(collector):
    send(collector, rich_event())
    send(
        collector,
        rich_event(
            release="shop@3.0",
            environment="staging",
            level="warning",
            exception={"values": [{"type": "TypeError", "value": "nope"}]},
        ),
    )
    status, page, _ = get(collector, "/issues/")
    assert status == 200 and "ValueError" in page and "TypeError" in page
    _, page, _ = get(collector, "/issues/?release=shop%403.0")
    assert "TypeError" in page and "ValueError" not in page
    _, page, _ = get(collector, "/issues/?environment=production&level=error")
    assert "ValueError" in page and "TypeError" not in page
    _, page, _ = get(collector, "/issues/?first_release=shop%402.0&q=checkout")
    assert "ValueError" in page and "TypeError" not in page
    _, page, _ = get(collector, "/issues/?status=resolved")
    assert "No issues match" in page
    for sort in ("first_seen", "events", "last_seen", "nonsense"):
        assert get(collector, f"/issues/?sort={sort}&page=2")[0] == 200
    for path in ("/releases/", "/events/"):
        status, page, _ = get(collector, path)
        assert status == 200 and "shop@3.0" in page, path


def test_issue_actions_need_the_form_token_and_this_origin(collector):
    send(collector, rich_event())
    issue_id = list(_issue_ids(collector).values())[0]
    status, page, headers = get(collector, f"/issues/{issue_id}/")
    assert status == 200
    assert "Latest event" in page and "shop/views.py" in page and "Events per day" in page
    assert "web-7" in page  # the server distribution
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    path = f"/issues/{issue_id}/actions/"
    origin = collector.url

    def state() -> str:
        return collector.api("GET", f"/issues/{issue_id}/")["status"]

    refused = [
        post(collector, path, {"action": "resolve"}, cookie, origin),  # no token
        post(collector, path, {"action": "resolve", "csrf": "0" * 64}, cookie, origin),
        post(collector, path, {"action": "resolve", "csrf": token}, cookie, "http://evil.example"),
        post(collector, path, {"action": "resolve", "csrf": token}, cookie, None),
        post(collector, path, {"action": "resolve", "csrf": token}, "", origin),  # other browser
    ]
    assert refused == [403] * 5 and state() == "unresolved"
    assert get(collector, path + "?action=resolve&csrf=" + token, cookie)[0] == 405
    assert state() == "unresolved"
    assert post(collector, path, {"action": "resolve", "csrf": token}, cookie, origin) == 303
    assert state() == "resolved"
    assert post(collector, path, {"action": "unresolve", "csrf": token}, cookie, origin) == 303
    assert post(collector, path, {"action": "ignore", "csrf": token}, cookie, origin) == 303
    assert state() == "ignored"
    assert post(collector, path, {"action": "bogus", "csrf": token}, cookie, origin) == 400
    assert (
        post(
            collector,
            path,
            {"action": "assign", "assignee": "Mallory", "csrf": token},
            cookie,
            origin,
        )
        == 400
    )
