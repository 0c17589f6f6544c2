"""The retry policy: what is retried, what is dropped, how long to wait."""

from __future__ import annotations

import dataclasses

import pytest

from releasetag.transport.retry import DROP, RETRY, SENT, RetryPolicy


def test_network_errors_5xx_and_429_are_retried_client_errors_dropped():
    policy = RetryPolicy()
    assert policy.decide(None) == RETRY
    assert [policy.decide(s) for s in (500, 502, 503, 504, 429)] == [RETRY] * 5
    assert [policy.decide(s) for s in (400, 401, 403, 413)] == [DROP] * 4
    assert policy.decide(200) == SENT
    assert policy.decide(404) == DROP  # retrying cannot fix a wrong endpoint


def test_policy_is_immutable():
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.backoff_max = 1  # type: ignore[misc]


def test_backoff_grows_exponentially_with_bounded_jitter_and_cap():
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0, jitter=0.5)
    assert policy.backoff(1, rand=lambda: 0.0) == 1.0
    assert policy.backoff(3, rand=lambda: 0.0) == 4.0
    assert policy.backoff(3, rand=lambda: 1.0) == 6.0
    assert policy.backoff(50, rand=lambda: 0.0) == 8.0


def test_retry_after_wins_when_longer_and_is_capped():
    policy = RetryPolicy(backoff_base=1.0, jitter=0.0, retry_after_max=100.0)
    assert policy.backoff(1, retry_after=30.0) == 30.0
    assert policy.backoff(1, retry_after=0.1) == 1.0
    assert policy.backoff(1, retry_after=10_000.0) == 100.0
