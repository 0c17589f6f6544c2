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
from releasetag.collector.unminify import Resolver

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
