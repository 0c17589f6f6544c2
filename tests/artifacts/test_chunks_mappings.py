"""Small pure pieces: VLQ coding, chunk hashing and request batching."""

from __future__ import annotations

import hashlib

from releasetag.build.artifacts.chunks import Chunk, ChunkOptions, hash_file, plan_batches
from releasetag.build.artifacts.mappings import (
    insert_lines,
    split_line,
    vlq_decode_first,
    vlq_encode,
)


def test_vlq_round_trip():
    for value in (0, 1, -1, 15, 16, -16, 31, 32, 1000, -123456, 2**30):
        text = vlq_encode(value)
        assert vlq_decode_first(text + "AAAA") == (value, len(text))


def test_insert_and_split_lines():
    assert insert_lines("AAAA;AACA", 0, 1) == ";AAAA;AACA"
    assert insert_lines("AAAA;AACA", 1, 2) == "AAAA;;;AACA"
    # split line 0 at column 4: the segment at column 4 moves to column 0 two lines down
    assert split_line("AAAA,IAAI,EAAE;AACA", 0, 4, 1) == "AAAA;;AAAI,EAAE;AACA"


def test_hash_file_chunks_and_checksum(tmp_path):
    data = bytes(range(256)) * 100  # 25,600 bytes
    path = tmp_path / "blob"
    path.write_bytes(data)
    cf = hash_file(str(path), 10_000)
    assert cf.checksum == hashlib.sha1(data).hexdigest() and cf.size == len(data)
    assert [c.size for c in cf.chunks] == [10_000, 10_000, 5_600]
    assert cf.chunk_ids[1] == hashlib.sha1(data[10_000:20_000]).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert hash_file(str(empty), 10).chunks == []


def test_batches_respect_count_and_size():
    opts = ChunkOptions(url="x", chunks_per_request=3, max_request_size=250)
    chunks = [Chunk(f"{i:040x}", "p", i * 100, 100) for i in range(7)]
    batches = plan_batches(chunks, opts)
    assert [len(b) for b in batches] == [2, 2, 2, 1]  # 3 x 100 > 250
    opts = ChunkOptions(url="x", chunks_per_request=3, max_request_size=10_000)
    assert [len(b) for b in plan_batches(chunks, opts)] == [3, 3, 1]
    big = [Chunk("a" * 40, "p", 0, 500)]  # one chunk over the limit still goes, alone
    assert plan_batches(big, opts) == [big]


def test_options_from_server_json_tolerates_odd_values():
    opts = ChunkOptions.from_json(
        {
            "url": "u",
            "chunkSize": "4096",
            "concurrency": 0,
            "compression": ["gzip"],
            "maxRequestSize": None,
        }
    )
    assert (opts.chunk_size, opts.concurrency, opts.gzip) == (4096, 1, True)
    assert opts.max_request_size == 32 << 20


def test_upload_urls_from_prefix_suffix_and_strip_path_prefix():
    from releasetag.build.artifacts.collect import make_url

    assert make_url("static/app.js") == "~/static/app.js"
    assert make_url("static/app.js", "~/assets") == "~/assets/static/app.js"
    assert make_url("static/app.js", "app:///", "?v=2") == "app:///static/app.js?v=2"
    assert (
        make_url("build/static/app.js", "https://cdn.example.com/", strip_path_prefix="build/")
        == "https://cdn.example.com/static/app.js"
    )
    assert make_url("other/app.js", strip_path_prefix="build") == "~/other/app.js"
