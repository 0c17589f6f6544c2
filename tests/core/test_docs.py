"""The docs match the code: every runtime option is in docs/sdk.md's Configuration table, and
every citation of docs/protocol.md names a section it has."""

from __future__ import annotations

import re
from pathlib import Path

from releasetag.options import Options

ROOT = Path(__file__).resolve().parents[2]
SDK_MD = ROOT / "docs" / "sdk.md"


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


def test_every_citation_of_the_protocol_page_names_one_of_its_sections():
    page = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+)\. ", page, re.M))
    cited = {}
    for path in [*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("docs").glob("*.md"),
                 ROOT / "README.md"]:  # fmt: skip
        text = path.read_text(encoding="utf-8")
        assert "PROTOCOL.md" not in text, f"{path} cites a PROTOCOL.md the repository lacks"
        for number in re.findall(r"protocol\.md §(\d+)", text):
            cited.setdefault(number, []).append(path.name)
    assert len(cited) >= 4, cited  # the citations were found
    assert set(cited) <= sections, {n: cited[n] for n in set(cited) - sections}
