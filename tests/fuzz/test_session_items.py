"""Session items come from outside: any JSON value is either a valid row or a one-line
rejection, never another exception; valid rows keep the invariants the store relies on."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from releasetag.collector import health, session_intake, sessions_api
from releasetag.collector.request_response import HTTPError
from releasetag.protocol import session_fields as wire
from releasetag.protocol.session_fields import FIELDS, GROUP_BYS, STATUSES, wire_time

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
NOW = time.time()
TIMES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.builds(wire_time, st.floats(min_value=0, max_value=NOW + 10_000)),
    st.text(max_size=30),
)
SESSION = st.fixed_dictionaries(
    {},
    optional={
        "sid": st.one_of(st.uuids().map(str), JSON),
        "did": JSON,
        "status": st.one_of(st.sampled_from(STATUSES), JSON),
        "started": TIMES,
        "timestamp": TIMES,
        "duration": st.one_of(st.floats(allow_nan=True), JSON),
        "seq": st.one_of(st.integers(), JSON),
        "errors": st.one_of(st.integers(), JSON),
        "attrs": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"release": st.one_of(st.just("app@1"), JSON), "environment": JSON}
            ),
            JSON,
        ),
    },
)


@settings(max_examples=400, deadline=None)
@given(payload=st.one_of(SESSION, JSON))
def test_a_session_update_is_a_row_or_a_rejection(payload):
    try:
        row = session_intake.session_update(payload, now=NOW)
    except session_intake.Rejected as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert row["status"] in STATUSES
    assert row["started"] <= row["timestamp"] and row["started"] <= NOW + 300
    assert row["duration"] is None or 0 <= row["duration"] < float("inf")
    assert row["seq"] >= 0 and row["errors"] >= 0 and row["release"]


BUCKET = st.fixed_dictionaries(
    {},
    optional={
        "started": TIMES,
        "exited": st.one_of(st.integers(), JSON),
        "errored": st.integers(),
        "crashed": st.integers(),
        "abnormal": JSON,
        "did": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    attrs=st.one_of(st.just({"release": "app@1", "environment": "prod"}), JSON),
    aggregates=st.one_of(st.lists(st.one_of(BUCKET, JSON), max_size=4), JSON),
)
def test_session_aggregates_are_rows_or_a_rejection(attrs, aggregates):
    try:
        rows = session_intake.session_counts({"attrs": attrs, "aggregates": aggregates}, now=NOW)
    except session_intake.Rejected as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for row in rows:
        assert row["started"] % 60 == 0
        assert all(row[k] >= 0 for k in ("exited", "errored", "crashed", "abnormal"))


@settings(max_examples=300, deadline=None)
@given(
    query=st.text(max_size=60),
    period=st.text(max_size=8),
    fields=st.lists(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), max_size=3),
    group_by=st.lists(st.one_of(st.sampled_from(GROUP_BYS), st.text(max_size=8)), max_size=2),
)
def test_sessions_api_parameters_are_a_query_or_a_one_line_400(query, period, fields, group_by):
    try:
        filters = sessions_api.parse_filter(query)
    except HTTPError as exc:
        assert exc.status == 400 and "\n" not in exc.detail
    else:
        assert set(filters) <= {"release", "environment"}
    try:
        health.SessionsQuery(
            fields, group_by, period=wire.parse_period(period), interval=3600, now=NOW
        )
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
