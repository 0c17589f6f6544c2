"""Every runtime option is documented in docs/sdk.md's Configuration table."""

from __future__ import annotations

import re
from pathlib import Path

from releasetag.options import Options

SDK_MD = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def documented_options() -> set:
    """The option names in the first column of the Configuration table."""
    text = SDK_MD.read_text(encoding="utf-8")
    table = text.split("### Configuration", 1)[1].split("\n\n", 2)[1]
    names = set()
    for line in table.splitlines()[2:]:
        first = line.split("|")[1]
        names |= set(re.findall(r"`([a-z_]+)(?:\([^)]*\))?`", first))
    return names


def test_every_option_is_documented_and_every_documented_one_exists():
    fields = set(Options.__annotations__)
    documented = documented_options()
    assert "dsn" in documented and "session_mode" in documented  # the table was found
    assert sorted(fields - documented) == [], "options missing from docs/sdk.md"
    assert sorted(documented - fields) == [], "docs/sdk.md documents options that do not exist"
