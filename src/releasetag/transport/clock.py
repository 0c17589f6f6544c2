"""The one clock of delivery: timers, retries, rate-limit windows and spool ages.

Both read the operating system directly, not ``time.monotonic`` / ``time.time``: tools that
freeze time in tests (freezegun, time-machine) patch those, and a frozen clock would stop
retries, rate-limit windows and flush timeouts, or make spooled envelopes look months old.
"""

from __future__ import annotations

import time

if hasattr(time, "clock_gettime") and hasattr(time, "CLOCK_MONOTONIC"):

    def monotonic() -> float:
        """Seconds on a clock that only goes forward (for deadlines and windows)."""
        return time.clock_gettime(time.CLOCK_MONOTONIC)

    def wall_ns() -> int:
        """Wall-clock nanoseconds (for spool keys and ages)."""
        return time.clock_gettime_ns(time.CLOCK_REALTIME)
else:  # pragma: no cover - Windows
    monotonic = time.monotonic
    wall_ns = time.time_ns
