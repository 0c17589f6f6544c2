"""Fuzzing what native source context reads: DWARF line programs (the line table the
collector keeps, the source list bundles are made from) and source bundles as the collector
receives them. The only acceptable outcomes are a result or the documented problem: a
``problem`` string on LineTable and BundleSources, None from describe_bundle, FormatError
from source_files. Inputs are mutations of the committed dSYM, a system ELF and a bundle."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasetag.build.artifacts.formats import DebugObject, FormatError
from releasetag.build.artifacts.formats.dwarf import LineTable, source_files
from releasetag.build.artifacts.source_bundle import write_source_bundle
from releasetag.collector.native_sources import BundleSources, describe_bundle
from tests.fuzz.test_parsers import FIXTURES, FUZZ, _read, _small_elf, mutated

pytestmark = pytest.mark.timeout(120)
DSYM = _read(os.path.join(FIXTURES, "mac_arm64.dylib.dsym"))


def _bundle() -> bytes:
    out = io.BytesIO()
    obj = DebugObject("elf", "executable", "00000000-0000-0000-0000-000000000001", "ab", "x86_64")
    write_source_bundle(out, obj, "app", [os.path.abspath(__file__)])
    return out.getvalue()


@FUZZ
@given(data=st.one_of(mutated(DSYM), mutated(_small_elf()[:65536])))
def test_line_tables_take_any_bytes(data):
    table = LineTable(data)
    assert table.problem is None or isinstance(table.problem, str)
    if table.problem is None:
        found = table.lookup(table.addresses[0])
        assert found is None or isinstance(found[1], int)
    try:
        assert all(isinstance(p, str) for p in source_files(data))
    except FormatError:
        pass


@FUZZ
@given(data=mutated(_bundle()))
def test_source_bundles_take_any_bytes(data):
    info = describe_bundle(data)
    assert info is None or info["kind"] == "sourcebundle"
    sources = BundleSources(data)
    if sources.problem is None:
        for path in list(sources.names):
            lines = sources.source_lines(path)
            assert lines is None or all(isinstance(line, str) for line in lines)


@FUZZ
@given(data=mutated(_bundle()))
def test_the_source_bundle_reader_takes_any_bytes(data, tmp_path_factory):
    from releasetag.build.artifacts import debugfiles

    path = tmp_path_factory.mktemp("bundle") / "app.src.zip"
    path.write_bytes(data)
    found = debugfiles.inspect(str(path))  # never raises: problems are reported
    assert found.problem is None or isinstance(found.problem, str)
    assert found.kind in (None, "sourcebundle")


@FUZZ
@given(data=mutated(_read(os.path.join(FIXTURES, "win.pdb"))))
def test_pdb_file_names_take_any_bytes(data, tmp_path_factory):
    from releasetag.build.artifacts.source_bundle import source_paths

    path = tmp_path_factory.mktemp("pdb") / "app.pdb"
    path.write_bytes(data)
    try:
        assert all(isinstance(p, str) for p in source_paths("pdb", str(path)))
    except FormatError:
        pass
