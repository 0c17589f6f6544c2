"""All SQL of the collector lives in ``releasetag/collector/db/``: no other module of the
package writes a query (a string that starts with a SQL statement)."""

from __future__ import annotations

import ast
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "src" / "releasetag"
DB = PACKAGE / "collector" / "db"
STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA)\s")


def queries_in(path: pathlib.Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if STATEMENT.match(node.value):
                yield node.lineno, node.value.strip().split("\n")[0][:60]
        elif isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and STATEMENT.match(str(first.value)):
                yield node.lineno, str(first.value)[:60]


def test_no_sql_outside_the_db_package():
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {text}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if DB not in path.parents
        for line, text in queries_in(path)
    ]
    assert found == []


def test_the_scan_finds_the_queries_of_the_db_package():
    # a scan that found nothing would pass for the wrong reason
    for module, at_least in [
        ("schema.py", 1),
        ("projects.py", 4),
        ("events.py", 8),
        ("issues.py", 15),
        ("releases.py", 20),
        ("notifications.py", 2),
        ("artifacts.py", 15),
        ("sessions.py", 6),
    ]:
        assert len(list(queries_in(DB / module))) >= at_least, module
    assert any("UPDATE groups" in text for _line, text in queries_in(DB / "issues.py"))


def test_store_modules_stay_small():
    for path in DB.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 600, path.name
