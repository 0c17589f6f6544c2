"""The memory backlog holds large envelopes compressed and gives them back unchanged, so an
outage keeps many more batches of logs within its byte bound."""

from __future__ import annotations

from releasetag.transport.backlog import MemoryBacklog


def test_large_envelopes_wait_compressed_and_come_back_whole():
    big = b'{}\n{"type":"log","item_count":100}\n' + b'{"body":"order paid"},' * 5000
    small = b'{}\n{"type":"event"}\n{"message":"x"}\n'
    lost = []
    backlog = MemoryBacklog(max_count=100, max_bytes=64 * 1024, on_evict=lambda *a: lost.append(a))
    for _ in range(10):  # 10 x 110 kB would be far over 64 kB uncompressed
        backlog.put(big, "log_item")
    backlog.put(small, "error")
    assert lost == [] and len(backlog) == 11
    claim, _ = backlog.claim(lambda category: False)
    assert claim is not None and claim.data == big
    backlog.release(claim)
    taken = backlog.take_all()
    assert [data for _key, _cat, data in taken] == [big] * 10 + [small]
