"""The same check-in calls made through sentry-sdk or releasetag: ``python -m
tests.crons.checkin_app sentry|releasetag DSN``."""

from __future__ import annotations

import asyncio
import sys

CONFIG = {
    "schedule": {"type": "crontab", "value": "*/5 * * * *"},
    "checkin_margin": 2,
    "max_runtime": 10,
    "timezone": "Europe/Vienna",
    "failure_issue_threshold": 2,
    "recovery_threshold": 3,
    "owner": "team:ops",
}


def main(which: str, dsn: str) -> None:
    if which == "sentry":
        import sentry_sdk as sdk
        from sentry_sdk.crons import capture_checkin, monitor

        sdk.init(dsn, release="app@1", environment="prod", default_integrations=False)
    else:
        import releasetag as sdk
        from releasetag.crons import capture_checkin, monitor

        sdk.init(dsn, release="app@1", environment="prod", default_integrations=False)

    @monitor(monitor_slug="sync-job", monitor_config=CONFIG)
    def job() -> int:
        return 7

    @monitor(monitor_slug="async-job")
    async def ajob() -> None:
        raise ValueError("boom")

    assert job() == 7
    try:
        asyncio.run(ajob())
    except ValueError:
        pass
    with monitor(
        monitor_slug="interval",
        monitor_config={"schedule": {"type": "interval", "value": 3, "unit": "minute"}},
    ):
        pass
    capture_checkin(monitor_slug="manual", check_in_id="a" * 32, status="ok", duration=1.5)
    sdk.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
