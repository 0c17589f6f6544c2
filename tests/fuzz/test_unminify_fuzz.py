"""Fuzzing the collector's frame resolution: any event shape and any uploaded map bytes give
frames left as they were or resolved, never an exception into ingest (issue 17's bad input:
maps that do not parse, debug IDs that match nothing, frames without line or column)."""

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.collector.db.store import Store
from releasetag.collector.native import NativeResolver
from releasetag.collector.unminify import Failed, Resolver, parse_map

EXAMPLES = int(os.environ.get("RELEASETAG_FUZZ_EXAMPLES", "150"))
pytestmark = pytest.mark.timeout(max(120, EXAMPLES // 3))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
DEBUG_ID = "a1b2c3d4-0000-4000-8000-000000000001"
URL = "https://shop.example/static/app.min.js"

scalars = st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=12) | st.floats()
frames = st.lists(
    st.fixed_dictionaries({}, optional={
        "abs_path": st.sampled_from([URL, "/srv/x.js", "", "app:///a.js"]) | scalars,
        "filename": st.sampled_from([URL, "x.js"]) | scalars,
        "lineno": st.integers(-2, 5) | scalars, "colno": st.integers(-2, 60) | scalars,
        "function": st.sampled_from(["a", "?", ""]) | scalars,
        "instruction_addr": st.sampled_from(["0x1000", "0xzz", "12"]) | scalars,
        "data": st.dictionaries(st.text(max_size=4), scalars, max_size=2) | scalars,
    }) | scalars,
    max_size=6,
)  # fmt: skip
events = st.fixed_dictionaries({}, optional={
    "exception": st.fixed_dictionaries({"values": st.lists(
        st.fixed_dictionaries({}, optional={"stacktrace": st.fixed_dictionaries(
            {}, optional={"frames": frames}) | scalars}) | scalars, max_size=2)}) | scalars,
    "debug_meta": st.fixed_dictionaries({"images": st.lists(st.fixed_dictionaries({}, optional={
        "type": st.sampled_from(["sourcemap", "elf", "macho"]) | scalars,
        "code_file": st.just(URL) | scalars, "debug_id": st.just(DEBUG_ID) | scalars,
        "image_addr": st.sampled_from(["0x1000", "0x0"]) | scalars,
        "image_size": st.integers(-1, 10**5) | scalars}), max_size=3)}) | scalars,
    "release": st.just("fuzz@1") | scalars, "dist": st.just("7") | scalars,
})  # fmt: skip
map_bytes = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda m: json.dumps(m).encode(), st.fixed_dictionaries({}, optional={
        "version": st.just(3), "sources": st.lists(st.text(max_size=6) | scalars, max_size=3),
        "sourcesContent": st.lists(st.text(max_size=20) | scalars, max_size=3),
        "names": st.lists(st.text(max_size=4) | scalars, max_size=3),
        "mappings": st.text("AACDEFGgh;,+/", max_size=30) | scalars,
        "sections": st.lists(st.dictionaries(st.text(max_size=5), scalars, max_size=3), max_size=2),
    })),
)  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(str(tmp_path_factory.mktemp("fuzzdb") / "db.sqlite3"))
    s.ensure_project("web", "web", "k" * 32)
    yield s
    s.close()


@FUZZ
@given(event=events, data=map_bytes, minified=st.binary(max_size=80))
def test_resolution_never_raises(store, event, data, minified):
    files = [
        {"name": "~/static/app.min.js", "type": "minified_source", "debug_id": DEBUG_ID,
         "headers": {"debug-id": DEBUG_ID, "sourcemap": "app.min.js.map"}, "data": minified},
        {"name": "~/static/app.min.js.map", "type": "source_map", "debug_id": DEBUG_ID,
         "headers": {"debug-id": DEBUG_ID}, "data": data},
    ]  # fmt: skip
    import hashlib

    checksum = hashlib.sha1(data + minified).hexdigest()
    store.add_bundle(checksum, data + minified, {"release": "fuzz@1", "dist": "7"}, files)
    before = copy.deepcopy(event)
    resolver = Resolver(store)  # a fresh cache: the map just uploaded is the one read
    resolver.resolve_event(event)
    NativeResolver(store, resolver.cache).resolve_event(1, event)
    json.dumps(event, default=str)  # still storable
    if not isinstance(before.get("exception"), dict):
        assert event == before


# --- what parsing a map may allocate (issue 24.4) ------------------------------------------
def _measure(data: bytes):
    """(the parsed map or Failed, peak bytes allocated while parsing, bytes it still holds)."""
    import gc
    import tracemalloc

    parse_map(data)  # warm: imports and compiled patterns are not the map's
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        parsed = parse_map(data)
        peak = tracemalloc.get_traced_memory()[1] - before
        gc.collect()  # what a cycle holds until the collector runs is not kept
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return parsed, peak, held


def _bounded(data: bytes) -> None:
    parsed, peak, held = _measure(data)
    assert peak <= PEAK_RATIO * len(data) + PEAK_SLACK, (len(data), peak, parsed)
    # the cache is charged at least what the parsed map really holds
    assert held <= parsed.size + 4096, (held, parsed.size)


PEAK_RATIO, PEAK_SLACK = 32, 64 * 1024


def _vlq(value: int) -> str:
    from releasetag.build.artifacts.mappings import vlq_encode

    return vlq_encode(value)


segment_texts = st.one_of(
    st.just("AAAA"), st.just("A"), st.just("AACA"),
    st.integers(0, 2**64).map(lambda v: _vlq(v) + "AAA"),  # huge columns
    st.integers(0, 2**64).map(lambda v: "AA" + _vlq(v) + "A"),  # huge original lines
    st.integers(-(2**40), 2**40).map(lambda v: "A" + _vlq(v) + "AA"),  # sources far away
)  # fmt: skip
hostile_mappings = st.builds(
    lambda parts: "".join(parts),
    st.lists(
        st.one_of(
            segment_texts,
            st.integers(1, 200_000).map(lambda n: ";" * n),  # millions of empty lines, scaled
            st.integers(1, 50).map(lambda n: "," * n),
        ),
        max_size=8,
    ),
)


def _hostile_map(depth: int = 0):
    regular = st.builds(
        lambda m, n: {"version": 3, "sources": ["a.js"] * n, "names": ["x"], "mappings": m},
        hostile_mappings, st.integers(0, 3),
    )  # fmt: skip
    if depth >= 3:
        return regular
    section = st.fixed_dictionaries({
        "offset": st.fixed_dictionaries({"line": st.integers(0, 200_000),
                                         "column": st.integers(0, 200_000)}),
        "map": st.deferred(lambda: _hostile_map(depth + 1)),
    })  # fmt: skip
    return regular | st.builds(
        lambda s: {"version": 3, "sections": s}, st.lists(section, min_size=1, max_size=4)
    )


@FUZZ
@given(smap=_hostile_map())
def test_parsing_a_map_allocates_in_proportion_to_its_size(smap):
    """Huge section offsets, runs of ';', huge columns and nested sections: what parsing
    allocates stays within a multiple of the map's bytes, and the cache is charged what the
    parsed map holds."""
    _bounded(json.dumps(smap).encode())


def test_offsets_and_values_beyond_32_bits_are_refused_cheaply():
    deep = {"version": 3, "sources": ["a.js"], "mappings": "AAAA"}
    for _ in range(40):  # deeper than any bundler nests indexed maps
        deep = {"version": 3, "sections": [{"offset": {"line": 1, "column": 0}, "map": deep}]}
    far = {"version": 3, "sources": ["a.js"], "mappings": "AAAA"}
    for line, expect in ((2**31 - 2, None), (2**31, "out of range"), (10**30, "out of range")):
        smap = {"version": 3, "sections": [{"offset": {"line": line, "column": 0}, "map": far}]}
        data = json.dumps(smap).encode()
        _bounded(data) if expect is None else None
        parsed = parse_map(data)
        if expect is None:
            assert parsed.lookup(line, 0) == (0, 0, 0, 0) and parsed.line_count == line + 1
        else:
            assert expect in parsed.reason
    assert "nested more than" in parse_map(json.dumps(deep).encode()).reason
    assert (
        "larger than 32 bits"
        in parse_map(json.dumps(dict(far, mappings="g" * 30 + "B")).encode()).reason
    )


# valid maps: the compact parse finds what the flattened, fully decoded map finds
def _valid_lines(draw_lines):
    out = []
    for line in draw_lines:
        col, segs = 0, []
        for gap, src, oline, ocol, name in line:
            col += gap
            seg = (col,) if src is None else (col, src, oline, ocol)
            if src is not None and name is not None:
                seg += (name,)
            segs.append(seg)
        out.append(segs)
    return out


valid_line = st.lists(
    st.tuples(st.integers(0, 40), st.none() | st.integers(0, 2), st.integers(0, 90),
              st.integers(0, 90), st.none() | st.integers(0, 2)),
    max_size=5,
)  # fmt: skip


@FUZZ
@given(
    parts=st.lists(st.lists(valid_line, max_size=6), min_size=1, max_size=3),
    gaps=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30)), min_size=3, max_size=3),
    indexed=st.booleans(),
)
def test_valid_maps_resolve_as_before(parts, gaps, indexed):
    from releasetag.build.artifacts.rewrite import decode_mappings, encode_mappings, flatten

    def regular(lines):
        return {"version": 3, "sources": ["a.js", "b.js", "c.js"], "names": ["x", "y", "z"],
                "sourcesContent": ["1\n2", None, "3"], "mappings": encode_mappings(lines)}  # fmt: skip

    decoded = [_valid_lines(p) for p in parts]
    if indexed:
        sections, line = [], 0
        for lines, (gap, col) in zip(decoded, gaps):
            sections.append((line + gap, col, lines))  # each section on lines of its own
            line += gap + max(len(lines), 1)
        smap = {"version": 3, "sections": [
            {"offset": {"line": ln, "column": c}, "map": regular(ls)} for ln, c, ls in sections]}  # fmt: skip
        flat = flatten(smap)
    else:
        smap = flat = regular(decoded[0])
    parsed = parse_map(json.dumps(smap).encode())
    assert not isinstance(parsed, Failed), parsed.reason
    reference = decode_mappings(flat["mappings"])
    columns = {c for segs in reference for s in segs for c in (s[0], s[0] + 1)} | {0}

    def described(seg, sources, names):
        if seg is None:
            return None
        text = (sources[seg[1]], seg[2], seg[3])
        return text + (names[seg[4]],) if len(seg) == 5 else text

    for line in range(len(reference) + 1):
        for col in columns:
            segs = reference[line] if line < len(reference) else []
            before = [s for s in segs if s[0] <= col]
            want = before[-1] if before and len(before[-1]) >= 4 else None
            assert described(parsed.lookup(line, col), parsed.sources, parsed.names) == (
                described(want, flat["sources"], flat["names"])
            ), (line, col)
