"""The pages a person opens: a release's health (figures and the inline SVG chart), and
lists that page through many releases and events instead of printing them all."""

from __future__ import annotations

import re
import time
import uuid
from html.parser import HTMLParser
from typing import Dict, List, Tuple

from releasetag.protocol.dsn import Dsn
from releasetag.protocol.envelope import Envelope, Item


class Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: List[Tuple[str, Dict[str, str]]] = []
        self.titles: List[str] = []
        self._in_title = False
        self.text: List[str] = []

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, {k: v or "" for k, v in attrs}))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.titles.append(data)

    def all(self, tag: str, **attrs: str) -> List[Dict[str, str]]:
        return [
            a for t, a in self.starts if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def _get(collector, path: str) -> Tree:
    status, body = collector.request("GET", path, token=None)
    assert status == 200, (path, body)
    tree = Tree()
    tree.feed(body.decode("utf-8"))
    return tree


def _post(collector, *items: Item) -> None:
    dsn = Dsn.parse(collector.dsn)
    status, answer = collector.request(
        "POST",
        f"/api/{dsn.project_id}/envelope/",
        raw=Envelope({}, list(items)).serialize(),
        headers={"X-Sentry-Auth": dsn.auth_header()},
        token=None,
    )
    assert status == 200 and "rejected" not in answer, answer


def _event(release: str, kind: str = "Boom") -> Item:
    return Item.from_json(
        "event",
        {
            "event_id": uuid.uuid4().hex,
            "release": release,
            "environment": "production",
            "level": "error",
            "exception": {"values": [{"type": kind, "value": "x"}]},
        },
    )


def test_the_release_page_shows_health_and_a_chart_by_hour(collector):
    now = time.time()
    hour_ago = int(now - 3600) // 60 * 60
    _post(
        collector,
        Item.from_json(
            "sessions",
            {
                "attrs": {"release": "api@7", "environment": "production"},
                "aggregates": [
                    {"started": hour_ago, "exited": 18, "errored": 1, "crashed": 1},
                    {"started": int(now) // 60 * 60, "exited": 9, "abnormal": 1},
                ],
            },
        ),
        Item.from_json(
            "sessions",
            {
                "attrs": {"release": "api@6", "environment": "production"},
                "aggregates": [{"started": int(now) // 60 * 60, "exited": 70}],
            },
        ),
    )
    tree = _get(collector, "/releases/api@7/")
    text = " ".join(tree.text)
    assert "96.67%" in text  # crash-free sessions: 1 crash in 30
    assert f"{100 * 30 / 100:.2f}%" in text  # adoption: 30 of production's 100 sessions
    assert not tree.all("script")
    (svg,) = tree.all("svg")
    assert svg["role"] == "img"
    rects = tree.all("rect")
    assert len(rects) == 5  # 3 outcomes in the earlier hour, 2 in this one
    counts = sorted(re.match(r"\d\d:00 UTC: (\d+) (\w+)", t).groups() for t in tree.titles[1:])
    assert counts == sorted(
        [("18", "healthy"), ("1", "errored"), ("1", "crashed"), ("9", "healthy"), ("1", "abnormal")]
    )
    # the tallest bar (the earlier hour, 20 sessions) is the full height
    heights = [float(r["height"]) for r in rects]
    assert abs(sum(heights[:3]) - 110.0) < 0.5


def test_the_home_page_pages_through_releases(collector):
    for n in range(25):
        collector.api(
            "POST",
            f"/organizations/{collector.org}/releases/",
            {"version": f"svc@{n:02d}", "projects": [collector.project]},
            expect=201,
        )
    first = _get(collector, "/")
    sections = first.all("section", **{"class": "release"})
    assert len(sections) == 20
    (older,) = {a["href"] for a in first.all("a", rel="next")}
    assert older == "/?page=2"
    second = _get(collector, older)
    ids = [a["id"] for a in second.all("section", **{"class": "release"})]
    assert ids == [f"release-svc@{n:02d}" for n in range(4, -1, -1)]  # the 5 oldest
    assert {a["href"] for a in second.all("a", rel="prev")} == {"/?page=1"}
    assert not second.all("a", rel="next")


def test_release_and_issue_pages_page_through_events(collector):
    for _ in range(60):
        _post(collector, _event("web@1"))
    home = _get(collector, "/")
    assert len(home.all("a", href="/releases/web%401/")) >= 1
    assert "all 60 events" in " ".join(home.text)
    page1 = _get(collector, "/releases/web@1/")
    event_links = [
        a
        for a in page1.all("a")
        if a.get("href", "").startswith("/events/") and a.get("href") != "/events/"
    ]
    assert len(event_links) == 50
    (older,) = {a["href"] for a in page1.all("a", rel="next")}
    page2 = _get(collector, older)
    assert (
        len(
            [
                a
                for a in page2.all("a")
                if a.get("href", "").startswith("/events/") and a.get("href") != "/events/"
            ]
        )
        == 10
    )
    issue = collector.api("GET", f"/organizations/{collector.org}/issues/?query=")[0]
    issue_page = _get(collector, f"/issues/{issue['id']}/")
    links = [
        a
        for a in issue_page.all("a")
        if a.get("href", "").startswith("/events/") and a.get("href") != "/events/"
    ]
    assert len({a["href"] for a in links}) == 50  # the latest event is linked twice
    assert "page 1 of 2 (60 in all)" in " ".join(issue_page.text)
