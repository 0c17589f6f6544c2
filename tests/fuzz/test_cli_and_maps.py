"""Fuzzing the command line and the sourcemap rewriter (issue 16's new inputs).

- argv: any mix of the real flags and junk parses, or exits 2 with an ``error:`` line; never
  another exception (argparse's own errors are the documented outcome);
- maps: the rewriter on any JSON (and broken bytes) returns new bytes, None, or its
  documented error; a flattened indexed map resolves every position as its sections did.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.build.artifacts.mappings import MappingError
from releasetag.build.artifacts.rewrite import (
    RewriteOptions,
    decode_mappings,
    encode_mappings,
    flatten,
    rewrite_map,
)
from releasetag.build.artifacts.sourcemaps import SourceMapError
from releasetag.cli.main import build_parser

EXAMPLES = int(os.environ.get("RELEASETAG_FUZZ_EXAMPLES", "150"))
pytestmark = pytest.mark.timeout(max(120, EXAMPLES // 5))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COMMANDS = [
    ["sourcemaps", "upload"], ["send-event"], ["send-envelope"], ["releases", "new"],
    ["releases", "deploys", "1.0", "new"], ["deploys", "new"], ["propose-version"],
]  # fmt: skip
TOKENS = [
    "-u", "--url-prefix", "--strip-prefix", "--strip-common-prefix", "--no-rewrite", "-i",
    "-I", "-x", "--wait", "--wait-for", "-s", "--strict", "--note", "-d", "-r", "-m", "-a",
    "-l", "-t", "-e", "-E", "-f", "-p", "--logfile", "--raw", "--json", "--timestamp",
    "--allow-failure", "-o", "--org", "error", "0", "-1", "k:v", "nocolon", "latest", "~/",
    "dist", "*.js", "--", "-", "--bogus", "=", "\x00", "é", "",
]  # fmt: skip


@FUZZ
@given(
    st.sampled_from(COMMANDS), st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=8)
)
def test_any_argv_parses_or_is_a_usage_error(command, rest):
    argv = command + rest
    err = io.StringIO()
    try:
        with redirect_stderr(err):
            build_parser(argv).parse_args(argv)
    except SystemExit as exc:
        assert exc.code in (0, 2), (argv, exc.code)
        if exc.code == 2:
            assert "error:" in err.getvalue(), argv


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
map_like = st.fixed_dictionaries(
    {},
    optional={
        "version": st.just(3),
        "sources": st.lists(st.one_of(st.text(max_size=12), st.none(), st.integers()), max_size=4),
        "sourcesContent": st.lists(st.one_of(st.text(max_size=12), st.none()), max_size=4),
        "names": st.lists(st.text(max_size=6), max_size=4),
        "mappings": st.text(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/,;", max_size=40
        ),
        "sourceRoot": st.text(max_size=6),
        "sections": st.lists(json_values, max_size=3),
        "extra": json_values,
    },
)


@FUZZ
@given(map_like, st.lists(st.text(max_size=6), max_size=2), st.booleans())
def test_rewrite_of_any_map_is_bytes_none_or_its_error(tmp_path_factory, smap, prefixes, common):
    path = tmp_path_factory.mktemp("maps") / "x.map"
    path.write_text(json.dumps(smap))
    try:
        out = rewrite_map(str(path), RewriteOptions(prefixes, common, load_sources=False))
    except (SourceMapError, MappingError):
        return
    if out is not None:
        assert isinstance(json.loads(out), dict)


@FUZZ
@given(st.binary(max_size=300))
def test_rewrite_of_broken_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("maps") / "x.map"
    path.write_bytes(data)
    try:
        rewrite_map(str(path), RewriteOptions())
    except (SourceMapError, MappingError):
        pass


segments = st.lists(
    st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 2), st.integers(0, 50), st.integers(0, 80)),
        max_size=5,
    ),
    max_size=5,
)


@FUZZ
@given(segments, segments, st.integers(0, 4))
def test_flatten_keeps_every_position(first, second, offset_line):
    """Each section's segments come out at their offset, naming the same source."""
    norm = lambda lines: [sorted(set(line)) for line in lines]  # noqa: E731
    first, second = norm(first), norm(second)
    a = {
        "version": 3,
        "sources": ["a0", "a1", "a2"],
        "names": [],
        "mappings": encode_mappings(first),
    }
    b = {
        "version": 3,
        "sources": ["b0", "b1", "b2"],
        "names": [],
        "mappings": encode_mappings(second),
    }
    start = max(len(first), 1) + offset_line
    flat = flatten({"version": 3, "sections": [
        {"offset": {"line": 0, "column": 0}, "map": a},
        {"offset": {"line": start, "column": 0}, "map": b},
    ]})  # fmt: skip
    lines = decode_mappings(flat["mappings"])
    got = {
        (n, s[0], flat["sources"][s[1]], s[2], s[3]) for n, line in enumerate(lines) for s in line
    }
    want = {(n, s[0], f"a{s[1]}", s[2], s[3]) for n, line in enumerate(first) for s in line}
    want |= {
        (start + n, s[0], f"b{s[1]}", s[2], s[3]) for n, line in enumerate(second) for s in line
    }
    assert got == want
