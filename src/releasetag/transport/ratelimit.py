"""Rate limits announced by the server (X-Sentry-Rate-Limits, or Retry-After on a 429)."""

from __future__ import annotations

import threading

from .clock import monotonic, wall_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Dict, Iterable, Optional

ALL = "__all__"
DEFAULT_RETRY_AFTER = 60.0


def parse_retry_after(value: Optional[str], default: float = DEFAULT_RETRY_AFTER) -> float:
    """Seconds from a Retry-After header (seconds or an HTTP date); ``default`` if unusable."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - wall_ns() / 1e9)
    except Exception:
        return default


def parse_rate_limits(header: str) -> Dict[str, float]:
    """``"60:error;transaction:key, 2700::organization"`` -> {category or ALL: seconds}."""
    out: Dict[str, float] = {}
    for limit in header.split(","):
        parts = limit.strip().split(":")
        if not parts or not parts[0]:
            continue
        try:
            seconds = float(parts[0])
        except ValueError:
            continue
        categories = [c for c in (parts[1].split(";") if len(parts) > 1 else []) if c]
        for category in categories or [ALL]:
            out[category] = max(out.get(category, 0.0), seconds)
    return out


class RateLimiter:
    """Remembers until when each data category is limited."""

    def __init__(self, clock: Optional[Callable[[], float]] = None) -> None:
        self._until: Dict[str, float] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def _now(self) -> float:
        return self._clock() if self._clock is not None else monotonic()

    def update(self, status: int, headers: Dict[str, str]) -> bool:
        """Record limits from a response; True when any limit was set."""
        header = headers.get("x-sentry-rate-limits")
        now = self._now()
        limits: Dict[str, float] = {}
        if header:
            limits = parse_rate_limits(header)
        elif status == 429:
            limits = {ALL: parse_retry_after(headers.get("retry-after"))}
        if not limits:
            return False
        with self._lock:
            for category, seconds in limits.items():
                self._until[category] = max(self._until.get(category, 0.0), now + seconds)
        return True

    def is_limited(self, category: str) -> bool:
        if not self._until:
            return False
        now = self._now()
        return (
            self._until.get(category, 0.0) > now
            or self._until.get(ALL, 0.0) > now
            or (category == "default" and self._until.get("error", 0.0) > now)
        )

    def seconds_left(self, categories: Iterable[str]) -> float:
        now = self._now()
        return max([0.0] + [self._until.get(c, 0.0) - now for c in list(categories) + [ALL]])
