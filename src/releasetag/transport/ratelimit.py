"""Rate limits announced by the server (X-Sentry-Rate-Limits, or Retry-After on a 429).

Every delay a server sends is read defensively: garbage and ``nan`` fall back to a default,
negative values and dates in the past mean 0, and anything above ``max_seconds`` (an hour by
default; ``inf`` and ``1e400`` included) is capped, so one answer can neither stop delivery
for the life of the process nor make a timer overflow.
"""

from __future__ import annotations

import threading

from .clock import monotonic, wall_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Dict, Iterable, Mapping, Optional

ALL = "__all__"
DEFAULT_RETRY_AFTER = 60.0
MAX_SECONDS = 3600.0  # the longest delay a server can ask for (RetryPolicy.retry_after_max)
_MAX_HEADER = 4096  # longer header values are not parsed (no server sends them honestly)


def bounded(seconds: float, cap: float = MAX_SECONDS) -> Optional[float]:
    """``seconds`` within ``[0, cap]`` (``inf`` -> ``cap``); None for ``nan``."""
    if seconds != seconds:  # nan
        return None
    return min(max(0.0, seconds), cap)


def parse_retry_after(
    value: Optional[str], default: float = DEFAULT_RETRY_AFTER, cap: float = MAX_SECONDS
) -> float:
    """Seconds from a Retry-After header (seconds or an HTTP date), within ``[0, cap]``;
    ``default`` (also capped) when the value is missing or unusable."""
    fallback = min(default, cap)
    if not value or len(value) > _MAX_HEADER:
        return fallback
    value = value.strip()
    seconds: Optional[float]
    try:
        seconds = float(value)
    except ValueError:
        seconds = _http_date_seconds(value)
    if seconds is None:
        return fallback
    out = bounded(seconds, cap)
    return fallback if out is None else out


def _http_date_seconds(value: str) -> Optional[float]:
    """Seconds from now until the HTTP date ``value`` (negative when past); None if not one."""
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).timestamp() - wall_ns() / 1e9
    except Exception:  # ValueError, TypeError, OverflowError, OSError on odd dates
        return None


def parse_rate_limits(header: str, cap: float = MAX_SECONDS) -> Dict[str, float]:
    """``"60:error;transaction:key, 2700::organization"`` -> {category or ALL: seconds}.

    Entries whose seconds are not a number are skipped; the others are kept within
    ``[0, cap]``."""
    out: Dict[str, float] = {}
    if len(header) > _MAX_HEADER:
        header = header[:_MAX_HEADER]
    for limit in header.split(","):
        parts = limit.strip().split(":")
        if not parts or not parts[0]:
            continue
        try:
            seconds = bounded(float(parts[0]), cap)
        except ValueError:
            continue
        if seconds is None:
            continue
        categories = [c for c in (parts[1].split(";") if len(parts) > 1 else []) if c]
        for category in categories or [ALL]:
            out[category] = max(out.get(category, 0.0), seconds)
    return out


class RateLimiter:
    """Remembers until when each data category is limited (never longer than
    ``max_seconds`` from the answer that set it)."""

    def __init__(
        self, clock: Optional[Callable[[], float]] = None, max_seconds: float = MAX_SECONDS
    ) -> None:
        self._until: Dict[str, float] = {}
        self._clock = clock
        cap = bounded(float(max_seconds), MAX_SECONDS * 24)
        self.max_seconds = MAX_SECONDS if cap is None else cap
        self._lock = threading.Lock()

    def _now(self) -> float:
        return self._clock() if self._clock is not None else monotonic()

    def update(self, status: int, headers: Mapping[str, str], minimum: float = 0.0) -> bool:
        """Record limits from a response; True when any limit was set.

        On a 429 every limit lasts at least ``minimum`` seconds (the retry policy's backoff,
        so ``Retry-After: 0`` cannot make us retry at once)."""
        header = headers.get("x-sentry-rate-limits")
        now = self._now()
        limits: Dict[str, float] = {}
        if header:
            limits = parse_rate_limits(header, self.max_seconds)
        elif status == 429:
            limits = {ALL: parse_retry_after(headers.get("retry-after"), cap=self.max_seconds)}
        if status == 429:
            floor = bounded(minimum, self.max_seconds) or 0.0
            limits = {category: max(seconds, floor) for category, seconds in limits.items()}
        if not limits:
            return False
        with self._lock:
            for category, seconds in limits.items():
                self._until[category] = max(self._until.get(category, 0.0), now + seconds)
        return True

    def hold(self, category: str, seconds: float) -> None:
        """Limit ``category`` for ``seconds`` (bounded) unless it is limited for longer."""
        seconds = bounded(seconds, self.max_seconds) or 0.0
        now = self._now()
        with self._lock:
            self._until[category] = max(self._until.get(category, 0.0), now + seconds)

    def is_limited(self, category: str) -> bool:
        """True while ``category`` (or everything) is limited."""
        if not self._until:
            return False
        now = self._now()
        return (
            self._until.get(category, 0.0) > now
            or self._until.get(ALL, 0.0) > now
            or (category == "default" and self._until.get("error", 0.0) > now)
        )

    def seconds_left(self, categories: Iterable[str]) -> float:
        """Seconds until none of ``categories`` is limited any more (0.0: not limited)."""
        now = self._now()
        return max([0.0] + [self._until.get(c, 0.0) - now for c in list(categories) + [ALL]])

    def reinit_after_fork(self) -> None:
        """In a forked child: a fresh lock (the windows the parent learnt still hold)."""
        self._lock = threading.Lock()
