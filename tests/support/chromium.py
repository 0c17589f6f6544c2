"""Headless Chromium for page tests: screenshots (kept under test-artifacts/) and the DOM."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import List

from tests.support.collector import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = os.path.join(ROOT, "test-artifacts")


class Browser:
    """One headless Chromium profile in ``profile_dir``."""

    def __init__(self, profile_dir: str) -> None:
        assert os.path.exists(CHROMIUM), "chromium is missing (apt-get install chromium; .ci/run)"
        self.base: List[str] = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile_dir}",
        ]

    def screenshot(self, url: str, name: str, size: str = "1280,1400") -> str:
        """Save a PNG of ``url`` as test-artifacts/NAME and return its path."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.join(ARTIFACTS, name)
        if os.path.exists(shot):
            os.remove(shot)
        subprocess.run(
            self.base + [f"--window-size={size}", f"--screenshot={shot}", url],
            capture_output=True,
            timeout=90,
            check=True,
        )
        with open(shot, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
        return shot

    def dom(self, url: str) -> str:
        """The DOM as the browser built it (after parsing, with any scripts run)."""
        return subprocess.run(
            self.base + ["--dump-dom", url], capture_output=True, text=True, timeout=90, check=True
        ).stdout
