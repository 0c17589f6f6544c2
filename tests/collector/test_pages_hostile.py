"""Every page of the collector, rendered with hostile values in every field a client sets:
no value becomes markup, an attribute, or leaves the attribute it was put in."""

from __future__ import annotations

import time
import uuid
from html.parser import HTMLParser
from typing import List, Set, Tuple
from urllib.parse import urlencode

import pytest

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Envelope, Item, event_envelope

HOSTILE = [
    "x onclick=alert(5)",
    'q" onmouseover="alert(6)',
    "a' style='position:fixed",
    '"><img src=x onerror=alert(1)>',
    "<script>alert(3)</script>",
    "</td></tr></table><iframe src=//evil>",
    "&lt;already escaped&gt; &amp;",
]
# the tags and attributes the pages are made of; anything else came from a value
TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "main", "a",
    "section", "div", "span", "b", "code", "pre", "p", "table", "thead", "tbody", "tr", "th",
    "td", "br", "nav", "svg", "rect", "text", "time", "details", "summary", "form", "input",
    "select", "option", "label", "button", "h4", "ul", "li", "small",
}  # fmt: skip
ATTRIBUTES = {
    "lang", "charset", "href", "class", "id", "rel", "role", "aria-label", "width", "height",
    "viewbox", "x", "y", "fill", "font-size", "datetime", "title", "aria-current", "method",
    "action", "name", "value", "type", "open", "selected", "placeholder", "content", "style",
    "download",  # the attachment links: a boolean attribute, no value
}  # fmt: skip


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Set[str] = set()
        self.attrs: List[Tuple[str, str, str]] = []
        self.text: List[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(body: bytes) -> Page:
    page = Page()
    page.feed(body.decode("utf-8"))
    page.close()
    return page


def _event(n: int, value: str, release: str) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "release": release,
        "environment": value,
        "level": value,
        "logger": value,
        "message": value,
        "platform": "python",
        "transaction": value,
        "server_name": value,
        "tags": {value[:32]: value, f"k{n}": value},
        "user": {"id": value, value[:20]: value},
        "request": {
            "method": value[:10],
            "url": value,
            "query_string": value,
            "headers": {value[:30]: value},
            "data": {value[:30]: [value]},
        },
        "breadcrumbs": [
            {"category": value, "level": value, "message": value, "data": {value[:30]: value}}
        ],
        "contexts": {value[:30]: {value[:30]: value}, "runtime": {"name": value}},
        "extra": {value[:30]: value},
        "exception": {
            "values": [
                {
                    "type": f"Hostile{n}{value}",
                    "value": value,
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": value,
                                "abs_path": f"/srv/{value}",
                                "module": value,
                                "function": value,
                                "lineno": 3,
                                "context_line": value,
                                "pre_context": [value, value],
                                "post_context": [value],
                                "in_app": True,
                                "vars": {value[:30]: value, "x": [value]},
                            },
                            {"filename": value, "function": value, "in_app": False},
                        ]
                    },
                }
            ]
        },
    }


def _seed(collector) -> List[str]:
    dsn = Dsn.parse(collector.dsn)
    ids = []
    for n, value in enumerate(HOSTILE):
        release = f"shop@{n} {value}".replace("/", "|")  # a release name may not hold a /
        collector.api(
            "POST",
            "/organizations/local/releases/",
            {"version": release, "projects": ["local"]},
            expect=201,
        )
        event = _event(n, value, release)
        envelope = event_envelope(event)  # with an attachment named and typed by the value
        envelope.add_item(
            Item({"type": "attachment", "filename": value, "content_type": value}, b"x")
        )
        status, _ = collector.request(
            "POST",
            f"/api/{dsn.project_id}/envelope/",
            raw=envelope.serialize(),
            headers={"X-Sentry-Auth": dsn.auth_header()},
            token=None,
        )
        assert status == 200
        ids.append(event["event_id"])
        minute = int(time.time()) // 60 * 60
        sessions = Item.from_json(
            "sessions",
            {
                "attrs": {"release": release, "environment": value},
                "aggregates": [{"started": minute, "exited": 3, "crashed": 1, "errored": 1}],
            },
        )
        status, answer = collector.request(
            "POST",
            f"/api/{dsn.project_id}/envelope/",
            raw=Envelope({}, [sessions]).serialize(),
            headers={"X-Sentry-Auth": dsn.auth_header()},
            token=None,
        )
        assert status == 200 and "rejected" not in answer, answer
        collector.api(
            "PUT",
            f"/organizations/local/releases/{_quote(release)}/",
            {
                "commits": [
                    {
                        "id": f"{n:040x}",
                        "repository": f"acme/{value}",
                        "message": f"Fixes LOCAL-{n + 1} {value}",
                        "author_name": value,
                        "author_email": f"dev{n}@example.com",
                        "patch_set": [{"path": value, "type": "M"}],
                    }
                ]
            },
        )
        collector.api(
            "POST",
            f"/organizations/local/releases/{_quote(release)}/deploys/",
            {"environment": f"env{n}", "name": value, "url": f"https://x.example/{n}"},
            expect=201,
        )
    return ids


def _paths(collector, event_ids: List[str]) -> List[str]:
    releases = collector.api("GET", "/organizations/local/releases/")
    issues = collector.api("GET", "/organizations/local/issues/?query=")
    paths = ["/"]
    paths += [f"/events/{i}/" for i in event_ids]
    paths += ["/releases/" + _quote(r["version"]) + "/" for r in releases]
    paths += [f"/issues/{i['id']}/" for i in issues]
    paths += ["/releases/", "/events/", "/issues/?status=all"]
    for value in HOSTILE:  # the stream's form parameters, shown back in its form
        query = urlencode({k: value for k in ("release", "environment", "level", "q", "sort")})
        paths.append("/issues/?" + query)
    return paths


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@pytest.fixture()
def seeded(collector):
    return collector, _seed(collector)


def test_every_page_keeps_hostile_values_as_text(seeded):
    collector, event_ids = seeded
    paths = _paths(collector, event_ids)
    assert len(paths) == 1 + 3 * len(HOSTILE) + 3 + len(
        HOSTILE
    )  # every event, release and issue has its page
    for path in paths:
        status, body = collector.request("GET", path, token=None)
        assert status == 200, path
        page = parse(body)
        assert page.tags <= TAGS, (path, page.tags - TAGS)
        assert {name for _tag, name, _value in page.attrs} <= ATTRIBUTES, path
        for tag, name, value in page.attrs:
            if name == "style":  # only the bars' heights the page computes
                assert value[:7] == "height:" and value[7:-1].isdigit(), value
            if name in ("href", "action"):  # links and forms stay on the collector
                assert value.startswith("/"), (path, value)
            if name == "class" and tag == "span" and value.startswith("level-"):
                level = value[len("level-") :]  # the whole value (ingest caps its length)
                assert any(h.startswith(level) for h in HOSTILE), value


def test_hostile_values_show_as_the_text_they_are(seeded):
    collector, event_ids = seeded
    status, body = collector.request("GET", f"/events/{event_ids[0]}/", token=None)
    text = "".join(parse(body).text)
    assert HOSTILE[0] in text
    for n, value in enumerate(HOSTILE):
        status, body = collector.request("GET", f"/events/{event_ids[n]}/", token=None)
        assert status == 200
        assert value in "".join(parse(body).text), value  # shown, not interpreted
        assert "Attachments" in "".join(parse(body).text)
    status, body = collector.request("GET", "/", token=None)
    text = "".join(parse(body).text)
    for value in HOSTILE:
        assert value in text, value
    assert text.count("80.00%") == len(HOSTILE)  # each release's health, in its environment
