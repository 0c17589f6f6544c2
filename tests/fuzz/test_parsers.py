"""Fuzzing the readers of outside input: envelopes, sourcemaps and their VLQ mappings, and
the ELF, Mach-O, PE, PDB, wasm and Breakpad readers. The only acceptable outcomes are a parsed
result or the module's documented error (a ReleasetagError; for debug files a DebugFile that
names its problem). Inputs are random bytes and mutations of real files.

CI runs a short bounded number of examples per target; run longer with
``RELEASETAG_FUZZ_EXAMPLES=20000 pytest tests/fuzz`` (see docs/architecture.md). A failing
input hypothesis finds is kept in its database (.hypothesis/); add it to SEEDS below so it
stays a regression case.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.build.artifacts import debugfiles, mappings, sourcemaps
from releasetag.build.artifacts.formats import breakpad, elf, macho, pdb, pe, wasm
from releasetag.protocol.envelope import Envelope, event_envelope
from releasetag.protocol.errors import ReleasetagError

EXAMPLES = int(os.environ.get("RELEASETAG_FUZZ_EXAMPLES", "150"))
pytestmark = pytest.mark.timeout(max(120, EXAMPLES // 5))  # long runs get the time they need
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "artifacts", "fixtures")  # fmt: skip


def _read(path: str, limit: int = 1 << 20) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(limit)


def _small_elf() -> bytes:
    for candidate in ("/bin/true", "/usr/bin/true", shutil.which("true") or ""):
        if candidate and os.path.exists(candidate):
            return _read(candidate)
    raise AssertionError("no ELF binary to seed the fuzzer")


SEEDS = {
    "elf": _small_elf(),
    "macho": _read(os.path.join(FIXTURES, "mac_x86_64.dylib")),
    "fat": _read(os.path.join(FIXTURES, "mac_fat.dylib")),
    "pe": _read(os.path.join(FIXTURES, "win.dll")),
    "pdb": _read(os.path.join(FIXTURES, "win.pdb")),
    "wasm": _read(os.path.join(FIXTURES, "sample.wasm")),
    "breakpad": _read(os.path.join(FIXTURES, "sample.sym")),
}


@st.composite
def mutated(draw, seed: bytes):
    """``seed`` with a few bytes changed, a slice cut out or the tail cut off."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if data and draw(st.booleans()):
        a = draw(st.integers(0, len(data) - 1))
        b = draw(st.integers(a, min(len(data), a + 4096)))
        del data[a:b]
    if data and draw(st.booleans()):
        del data[draw(st.integers(0, len(data) - 1)) :]
    return bytes(data)


def _as_file(data: bytes) -> str:
    fd, path = tempfile.mkstemp(prefix="releasetag-fuzz-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


READERS = {"elf": elf, "macho": macho, "fat": macho, "pe": pe, "pdb": pdb, "wasm": wasm,
           "breakpad": breakpad}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_debug_file_readers_take_any_bytes(kind):
    reader = READERS[kind]

    @FUZZ
    @given(data=st.one_of(mutated(SEEDS[kind]), st.binary(max_size=2048)))
    def run(data):
        path = _as_file(data)
        try:
            found = debugfiles.inspect(path)  # never raises: problems are reported
            assert found.problem is None or isinstance(found.problem, str)
            try:
                objects = reader.read(path)
            except ReleasetagError:
                return
            except (OSError, ValueError, IndexError, KeyError, OverflowError):
                # the readers' contract: inspect() turns these into "corrupt file"
                return
            assert isinstance(objects, list)
        finally:
            os.unlink(path)

    run()


@pytest.mark.parametrize("name", sorted(os.listdir(CORPUS)))
def test_inputs_that_once_broke_a_reader(name):
    """What the fuzzer found stays here: each file once made a reader fail."""
    path = os.path.join(CORPUS, name)
    found = debugfiles.inspect(path)
    assert found.problem, name  # reported, not raised
    for reader in set(READERS.values()):
        try:
            reader.read(path)
        except (ReleasetagError, OSError, ValueError, IndexError, KeyError, OverflowError):
            pass


ENVELOPE_SEED = event_envelope({"event_id": "a" * 32, "message": "m", "extra": {"k": [1, 2]}},
                               sent_at="2026-01-01T00:00:00Z").serialize()  # fmt: skip


@FUZZ
@given(data=st.one_of(mutated(ENVELOPE_SEED), st.binary(max_size=512)))
def test_envelope_reader_takes_any_bytes(data):
    try:
        envelope = Envelope.parse(data)
    except ReleasetagError:
        return
    for item in envelope.items:
        try:
            item.json()
        except ReleasetagError:
            pass


SOURCEMAP = json.dumps({"version": 3, "file": "a.min.js", "sources": ["a.js"],
                        "names": ["add", "a", "b"], "sourcesContent": ["function add(a,b){}"],
                        "mappings": "AAAA,SAASA,IAAIC,EAAGC;AACA"}).encode()  # fmt: skip


@FUZZ
@given(data=st.one_of(mutated(SOURCEMAP), st.binary(max_size=512)))
def test_sourcemap_reader_takes_any_bytes(data):
    try:
        smap = sourcemaps.load_map(data, "fuzz.map")
    except ReleasetagError:
        return
    try:
        mappings.shift_map(smap, 0, 0, 1)
    except ReleasetagError:
        pass


VLQ = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/,;!#",
              max_size=80)  # fmt: skip


@FUZZ
@given(segment=VLQ, line=st.integers(0, 5), column=st.integers(0, 50), count=st.integers(0, 3))
def test_vlq_mappings_take_any_text(segment, line, column, count):
    for call in (
        lambda: mappings.vlq_decode_first(segment),
        lambda: mappings.insert_lines(segment, line, count),
        lambda: mappings.split_line(segment, line, column, count),
    ):
        try:
            call()
        except ReleasetagError:
            pass


@FUZZ
@given(url=st.text(max_size=200))
def test_data_urls_take_any_text(url):
    try:
        sourcemaps.decode_data_url("data:application/json;base64," + url)
    except ReleasetagError:
        pass
