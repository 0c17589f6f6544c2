"""Deploy mail through a real collector and a real SMTP server: a deploy and its
notifications are one unit, and an address that cannot be mailed is skipped with its reason
instead of failing the request after the deploy was stored."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.collector import Collector
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.timeout(180)
_versions = itertools.count()


@pytest.fixture(scope="module")
def mail_collector(tmp_path_factory):
    sink = SmtpSink().start()
    c = Collector(str(tmp_path_factory.mktemp("data")), extra_args=["--smtp", sink.address])
    try:
        yield c, sink
    finally:
        c.stop()
        sink.stop()


def _release(c: Collector, authors) -> str:
    version = f"mail@{next(_versions)}"
    c.api("POST", "/organizations/local/releases/", {"version": version}, expect=201)
    commits = [
        {"id": f"c{i}", "repository": "acme/app", "message": f"change {i}", **author}
        for i, author in enumerate(authors)
    ]
    c.api("PUT", f"/organizations/local/releases/{version}/", {"commits": commits})
    return version


def _without_dates(records):
    return [{k: v for k, v in r.items() if k != "date"} for r in records]


def _deploy(c: Collector, version: str):
    return c.request(
        "POST", f"/api/0/organizations/local/releases/{version}/deploys/", {"environment": "prod"}
    )


def test_a_line_break_in_an_author_address_is_skipped_and_the_others_are_told(mail_collector):
    c, sink = mail_collector
    before = len(sink.received)
    version = _release(
        c,
        [
            {"author_name": "Ann", "author_email": "ann@example.com"},
            {"author_name": "Eve", "author_email": "eve@example.com\r\nBcc: all@example.com"},
            {"author_name": "Bo\r\nX-Evil: 1", "author_email": "bo@example.com"},
        ],
    )
    status, deploy = _deploy(c, version)
    assert status == 201, deploy
    told = {n["email"]: (n["status"], n["detail"]) for n in deploy["notifications"]}
    assert told["ann@example.com"] == ("sent", None)
    assert told["bo@example.com"] == ("sent", None)
    assert told["eve@example.com\r\nBcc: all@example.com"][0] == "skipped"
    assert "line break" in told["eve@example.com\r\nBcc: all@example.com"][1]
    received = sink.wait_for(before + 2)[before:]
    assert sorted(rcpt for _frm, rcpts, _msg in received for rcpt in rcpts) == [
        "ann@example.com",
        "bo@example.com",
    ]
    assert all("X-Evil" not in msg for _frm, _rcpts, msg in received)
    listed = c.api("GET", f"/organizations/local/releases/{version}/deploys/")
    assert (
        len(listed) == 1 and _without_dates(listed[0]["notifications"]) == deploy["notifications"]
    )


_address = st.one_of(
    st.emails(),
    st.text(min_size=1, max_size=20).map(lambda s: s + "@example.com"),
    st.text(min_size=1, max_size=30),
).filter(lambda s: s.strip() and len(s) <= 75)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(emails=st.lists(_address, min_size=1, max_size=3, unique_by=lambda s: s.strip().lower()))
def test_any_author_address_gives_one_deploy_and_one_record_each(mail_collector, emails):
    c, _sink = mail_collector
    version = _release(c, [{"author_email": e} for e in emails])
    status, deploy = _deploy(c, version)
    assert status == 201, deploy
    records = deploy["notifications"]
    assert sorted(n["email"] for n in records) == sorted(e.strip() for e in emails)
    for n in records:
        assert n["status"] in ("sent", "skipped", "failed")
        assert (n["detail"] is None) == (n["status"] == "sent")
    listed = c.api("GET", f"/organizations/local/releases/{version}/deploys/")
    assert len(listed) == 1 and _without_dates(listed[0]["notifications"]) == records
