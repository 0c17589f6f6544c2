"""The retry policy: one immutable object that says what to do with each send result."""

from __future__ import annotations

from releasetag.protocol.records import FrozenRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, FrozenSet, Optional

#: what to do with an envelope after one attempt
SENT = "sent"
RETRY = "retry"
DROP = "drop"


class RetryPolicy(FrozenRecord):
    """Which answers are retried, and how long to wait before the next attempt.

    Connection errors, timeouts, 5xx and 429 are retried with exponential backoff
    (``backoff_base * 2 ** (failures - 1)``, at most ``backoff_max``) plus up to
    ``jitter`` of that delay at random; a ``Retry-After`` header takes precedence when it
    asks for more. Statuses in ``drop_statuses`` (and any other 4xx) drop the envelope:
    repeating the same request cannot succeed (a bad DSN key, a too-large payload).
    """

    __slots__ = (
        "backoff_base",
        "backoff_max",
        "jitter",
        "retry_statuses",
        "drop_statuses",
        "retry_server_errors",
        "retry_after_max",
    )
    backoff_base: float
    backoff_max: float
    jitter: float
    retry_statuses: FrozenSet[int]
    drop_statuses: FrozenSet[int]
    retry_server_errors: bool
    #: a ``Retry-After`` longer than this is capped (a misbehaving server cannot park us forever)
    retry_after_max: float

    def __init__(
        self,
        backoff_base: float = 0.5,
        backoff_max: float = 60.0,
        jitter: float = 0.25,
        retry_statuses: FrozenSet[int] = frozenset({408, 425, 429}),
        drop_statuses: FrozenSet[int] = frozenset({400, 401, 403, 413}),
        retry_server_errors: bool = True,
        retry_after_max: float = 3600.0,
    ) -> None:
        self._init(
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            jitter=jitter,
            retry_statuses=retry_statuses,
            drop_statuses=drop_statuses,
            retry_server_errors=retry_server_errors,
            retry_after_max=retry_after_max,
        )

    def decide(self, status: Optional[int]) -> str:
        """SENT, RETRY or DROP for an HTTP status (None: no answer: network error or timeout)."""
        if status is None:
            return RETRY
        if 200 <= status < 300:
            return SENT
        if status in self.drop_statuses:
            return DROP
        if status in self.retry_statuses or (self.retry_server_errors and status >= 500):
            return RETRY
        return DROP

    def backoff(
        self,
        failures: int,
        retry_after: Optional[float] = None,
        rand: Optional[Callable[[], float]] = None,
    ) -> float:
        """Seconds to wait after ``failures`` consecutive failed attempts (>= 1)."""
        if rand is None:
            import random  # loaded on the app thread at first capture; a lookup here

            rand = random.random
        exp = min(self.backoff_max, self.backoff_base * (2 ** max(0, min(failures - 1, 30))))
        delay = exp + exp * self.jitter * rand()
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_max))
        return delay


DEFAULT_POLICY = RetryPolicy()
