"""Hostile or odd server answers: delays a server asks for are bounded, a 429 always backs
off, and no answer can stop delivery for the life of the process."""

from __future__ import annotations

import email.utils
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import releasetag
from releasetag.transport.ratelimit import (
    ALL,
    MAX_SECONDS,
    RateLimiter,
    parse_rate_limits,
    parse_retry_after,
)
from releasetag.transport.retry import RetryPolicy
from tests.transport.apps import event_messages, run_app

# numbers as servers write them: ints of any size, floats (inf, nan, 1e400), negatives
_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**400).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["inf", "-inf", "nan", "NaN", "1e400", "-1e400", "1e308", "0", "-0", "+5"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
# HTTP dates from 1970 to 9999 (past ones mean "now")
_dates = st.integers(min_value=0, max_value=253_402_300_799).map(
    lambda t: email.utils.formatdate(t, usegmt=True)
)
_garbage = st.text(max_size=60)
RETRY_AFTER = st.one_of(_numbers, _dates, _garbage, st.just(""))
_category = st.sampled_from(["error", "transaction", "session", "", "default", "x;y"])
RATE_LIMITS = st.one_of(
    st.lists(
        st.tuples(st.one_of(_numbers, _garbage), _category, st.sampled_from(["", "key", "org"])),
        max_size=5,
    ).map(lambda entries: ", ".join(f"{s}:{c}:{scope}" for s, c, scope in entries)),
    _garbage,
)
CAPS = st.sampled_from([0.5, 60.0, MAX_SECONDS])
HEADERS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bounded(seconds: float, cap: float) -> bool:
    return isinstance(seconds, float) and math.isfinite(seconds) and 0.0 <= seconds <= cap


@HEADERS
@given(RETRY_AFTER, CAPS)
def test_retry_after_is_always_a_bounded_number_of_seconds(value, cap):
    assert _bounded(parse_retry_after(value, cap=cap), cap)


@HEADERS
@given(RATE_LIMITS, CAPS)
def test_rate_limits_are_always_bounded(header, cap):
    limits = parse_rate_limits(header, cap=cap)
    assert all(_bounded(seconds, cap) for seconds in limits.values())


@HEADERS
@given(RETRY_AFTER, st.one_of(st.none(), RATE_LIMITS), st.sampled_from([200, 429, 503]), CAPS)
def test_a_limit_never_outlasts_the_cap(retry_after, rate_limits, status, cap):
    now = [1000.0]
    limiter = RateLimiter(clock=lambda: now[0], max_seconds=cap)
    headers = {"retry-after": retry_after}
    if rate_limits is not None:
        headers["x-sentry-rate-limits"] = rate_limits
    limiter.update(status, headers, minimum=0.25)
    left = limiter.seconds_left(["error", "transaction", "session"])
    assert _bounded(left, cap)
    now[0] += cap + 0.001
    assert not limiter.is_limited("error") and not limiter.is_limited("transaction")


def test_examples_of_odd_values():
    assert parse_retry_after("1e400") == MAX_SECONDS
    assert parse_retry_after("inf", cap=10) == 10
    assert parse_retry_after("nan", default=60, cap=10) == 10  # unusable: the default, capped
    assert parse_retry_after("-30") == 0.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
    assert parse_retry_after("soon") == 60.0
    assert parse_rate_limits("1e400::organization, nan:error, 5:session") == {
        ALL: MAX_SECONDS,
        "session": 5.0,
    }


def test_a_429_lasts_at_least_the_minimum_even_with_retry_after_zero():
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.update(429, {"retry-after": "0"}, minimum=2.0)
    assert limiter.seconds_left(["error"]) == 2.0
    limiter.update(429, {"x-sentry-rate-limits": "0:error"}, minimum=3.0)
    assert limiter.seconds_left(["error"]) == 3.0


_HOSTILE = [
    {"Retry-After": "1e400"},
    {"Retry-After": "inf"},
    {"Retry-After": "99999999999999999999999999999999"},
    {"X-Sentry-Rate-Limits": "1e400::organization"},
    {"X-Sentry-Rate-Limits": "inf:error:key, nan:default"},
]


@pytest.mark.parametrize("headers", _HOSTILE, ids=[str(h) for h in _HOSTILE])
def test_a_hostile_429_then_normal_answers_later_events_arrive(recorder, headers):
    """The server's delay is capped (here by the policy's ``retry_after_max``, an hour by
    default); the send thread survives, nothing is printed into the app's stderr, and every
    event arrives once the capped window has passed."""
    recorder.respond({"path": "/envelope/", "status": 429, "times": 1, "headers": headers})
    app = run_app(f"""
        policy = RetryPolicy(backoff_base=0.05, backoff_max=0.2, retry_after_max=0.5)
        releasetag.init({recorder.dsn()!r}, release="a@1", retry_policy=policy,
                        default_integrations=False)
        releasetag.capture_message("refused")
        releasetag.flush(0.2)
        releasetag.capture_message("later")
        print(releasetag.flush(20), json.dumps(releasetag.delivery_stats()))
    """)
    assert app.returncode == 0 and app.stderr == "", app.stderr
    assert app.stdout.startswith("True"), app.stdout
    assert sorted(event_messages(recorder)) == ["later", "refused"]


@pytest.mark.parametrize(
    "retry_after", ["0", "-5", "Thu, 01 Jan 1970 00:00:00 GMT"], ids=["zero", "negative", "past"]
)
def test_a_429_saying_retry_now_gets_a_backoff_that_grows(recorder, retry_after):
    """Each 429 waits at least the policy's backoff (0.1 s, then 0.2, 0.4, ...), not zero."""
    recorder.respond({"path": "/envelope/", "status": 429, "headers": {"Retry-After": retry_after}})
    policy = RetryPolicy(backoff_base=0.1, backoff_max=5.0, jitter=0.0)
    releasetag.init(recorder.dsn(), release="a@1", retry_policy=policy, default_integrations=False)
    try:
        releasetag.capture_message("limited")
        reqs = recorder.wait_for(lambda r: (lambda q: q if len(q) >= 4 else None)(r.requests()))
        times = [r["time"] for r in reqs[:4]]
        gaps = [b - a for a, b in zip(times, times[1:])]
        # the server records each request before answering it: a gap is at least the backoff
        assert [round(g, 2) >= 0.1 * 2**i * 0.95 for i, g in enumerate(gaps)] == [True] * 3, gaps
    finally:
        releasetag.close(0.1)
