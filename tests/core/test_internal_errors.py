"""An exception the SDK catches to protect the app is still seen: by the test suite (the
fixture in tests/conftest.py) and by users with ``debug=True``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import releasetag


@pytest.mark.internal_errors_expected
def test_a_caught_internal_error_is_recorded_for_the_test(_internal_errors):
    from releasetag.testing import CapturingTransport

    releasetag.init(transport=CapturingTransport(), default_integrations=False)
    releasetag.set_tags(object())  # not a mapping: the scope update fails inside the SDK
    assert [r.getMessage() for r in _internal_errors] == ["scope update failed"]
    assert _internal_errors[0].exc_info[0] is not None


def test_debug_mode_shows_the_caught_error_with_its_traceback():
    code = (
        "import releasetag\n"
        "from releasetag.testing import CapturingTransport\n"
        "releasetag.init(transport=CapturingTransport(), debug=True, default_integrations=False)\n"
        "releasetag.set_tags(object())\n"
        "print('app goes on')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "app goes on\n"
    assert "[releasetag] DEBUG: scope update failed" in out.stderr
    assert "Traceback (most recent call last)" in out.stderr
