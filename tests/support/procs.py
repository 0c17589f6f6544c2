"""Stopping test processes: terminate, wait, then kill if they do not end in time."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """End ``proc`` (SIGTERM, then SIGKILL after ``grace`` seconds) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
