"""The disk spool on its own: atomic files, order, caps, claims shared by processes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

from releasetag.transport import reports
from releasetag.transport.spool import DiskSpool
from tests.support.recorder import ROOT

NOT_LIMITED = lambda category: False  # noqa: E731


def test_put_claim_ack_in_capture_order(tmp_path):
    spool = DiskSpool(str(tmp_path))
    base = time.time_ns()
    for i in (3, 1, 2):
        spool.put(b"envelope %d\n" % i, "error", ts_ns=base + i * 1000)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]
    got = []
    while True:
        claim, _ = spool.claim(NOT_LIMITED)
        if claim is None:
            break
        got.append(claim.data)
        spool.ack(claim)
    assert got == [b"envelope 1\n", b"envelope 2\n", b"envelope 3\n"]
    assert [n for n in os.listdir(tmp_path) if n.endswith(".env")] == []  # none to send
    spool.collect()
    assert os.listdir(tmp_path) == []


def test_release_puts_it_back_in_its_place(tmp_path):
    spool = DiskSpool(str(tmp_path))
    spool.put(b"a\n", "error", ts_ns=time.time_ns())
    spool.put(b"b\n", "error", ts_ns=time.time_ns() + 1)
    claim, _ = spool.claim(NOT_LIMITED)
    spool.release(claim)
    again, _ = spool.claim(NOT_LIMITED)
    assert again.data == b"a\n"


def test_limited_categories_are_skipped_not_lost(tmp_path):
    spool = DiskSpool(str(tmp_path))
    spool.put(b"s\n", "session")
    spool.put(b"e\n", "error")
    claim, skipped = spool.claim(lambda c: c == "session")
    assert claim.data == b"e\n" and skipped == {"session"}
    spool.ack(claim)
    spool.collect()
    assert len(os.listdir(tmp_path)) == 1


def test_count_cap_evicts_oldest_first_and_counts_it(tmp_path):
    evicted = []
    spool = DiskSpool(
        str(tmp_path), max_count=3, on_evict=lambda reason, cat, n: evicted.append((reason, cat, n))
    )
    for i in range(5):
        spool.put(b"%d\n" % i, "error", ts_ns=time.time_ns() + i)
    assert evicted == [(reports.CACHE_OVERFLOW, "error", 1)] * 2
    left = []
    while True:
        claim, _ = spool.claim(NOT_LIMITED)
        if claim is None:
            break
        left.append(claim.data)
        spool.ack(claim)
    assert left == [b"2\n", b"3\n", b"4\n"]


def test_bytes_and_age_caps(tmp_path):
    evicted = []
    spool = DiskSpool(
        str(tmp_path),
        max_bytes=25,
        max_age=60,
        on_evict=lambda reason, cat, n: evicted.append(reason),
    )
    for i in range(3):
        spool.put(b"x" * 10, "error")
    assert len(evicted) == 1 and len(os.listdir(tmp_path)) == 2
    spool.put(b"old", "error", ts_ns=1)  # captured in 1970: older than max_age
    fresh = DiskSpool(
        str(tmp_path), max_age=60, on_evict=lambda reason, cat, n: evicted.append(reason)
    )
    assert fresh.scan() == 2 and len(evicted) == 2


def test_claims_of_dead_processes_are_recovered(tmp_path):
    spool = DiskSpool(str(tmp_path))
    spool.put(b"kept\n", "error")
    code = (
        "import sys; from releasetag.transport.spool import DiskSpool;"
        f"s = DiskSpool({str(tmp_path)!r}); c, _ = s.claim(lambda c: False);"
        "print(c.data.decode().strip())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src")),
    )
    assert out.stdout.strip() == "kept"  # the child claimed it, then died without acking
    assert any(".claim-" in n for n in os.listdir(tmp_path))
    fresh = DiskSpool(str(tmp_path))
    claim, _ = fresh.claim(NOT_LIMITED)
    assert claim is not None and claim.data == b"kept\n"


CLAIMER = """
import sys, time
from releasetag.transport.spool import DiskSpool
spool = DiskSpool(sys.argv[1], rescan_interval=0.0)
got = []
while True:
    claim, _ = spool.claim(lambda c: False)
    if claim is None:
        break
    got.append(claim.data.decode().strip())
    spool.ack(claim)
spool.collect()
print("\\n".join(got))
"""


def test_four_processes_share_one_spool_each_envelope_claimed_once(tmp_path):
    spool = DiskSpool(str(tmp_path))
    for i in range(400):
        spool.put(b"%d\n" % i, "error")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    seen = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        seen.extend(line for line in out.splitlines() if line)
    assert sorted(seen, key=int) == [str(i) for i in range(400)]
    assert os.listdir(tmp_path) == []


def test_claim_finds_an_allowed_envelope_behind_many_limited_ones(tmp_path):
    spool = DiskSpool(str(tmp_path))
    base = time.time_ns()
    for i in range(150):
        spool.put(b"s\n", "session", ts_ns=base + i)
    spool.put(b"e\n", "error", ts_ns=base + 1000)
    claim, skipped = spool.claim(lambda c: c == "session")
    assert claim is not None and claim.data == b"e\n" and skipped == {"session"}


def _envelope(message: str) -> bytes:
    from releasetag.protocol.envelope import event_envelope

    return event_envelope({"event_id": "e" * 32, "logentry": {"message": message}}).serialize()


def test_corrupt_spool_files_are_set_aside_counted_and_logged_once(recorder, tmp_path, caplog):
    """An earlier process left one good envelope, one file of garbage and one truncated file
    (named as it wrote them), plus a directory and a symlink named like envelopes. Only the
    good one reaches the server; the broken ones are counted, logged in one line and set
    aside; the directory and the symlink are left alone (no ``.claim-`` renames)."""
    import releasetag

    base = time.time_ns()
    writer = DiskSpool(str(tmp_path))
    writer.put(_envelope("good"), "error", ts_ns=base + 3)
    garbage = b"\x00\xff not an envelope \xfe"
    (tmp_path / f"{base + 1:019d}-1-00000001-{len(garbage)}.error.env").write_bytes(garbage)
    truncated = _envelope("truncated")
    (tmp_path / f"{base + 2:019d}-1-00000002-{len(truncated)}.error.env").write_bytes(
        truncated[:-20]
    )
    folder = tmp_path / f"{base:019d}-1-00000000-10.error.env"
    folder.mkdir()
    (folder / "inside").write_bytes(b"keep me")
    link = tmp_path / f"{base + 4:019d}-1-00000004-10.error.env"
    link.symlink_to(folder / "inside")
    with caplog.at_level(logging.WARNING, logger="releasetag.transport"):
        releasetag.init(
            recorder.dsn(), release="a@1", spool_dir=str(tmp_path), default_integrations=False
        )
        try:
            assert releasetag.flush(10)
            stats = releasetag.delivery_stats()
        finally:
            releasetag.close(1)
    assert [e["logentry"]["message"] for e in recorder.events()] == ["good"]
    assert stats["dropped"] == {"internal_sdk_error": 2}
    warnings = [r.getMessage() for r in caplog.records if r.name == "releasetag.transport"]
    assert len(warnings) == 1 and "not a valid envelope" in warnings[0], warnings
    names = sorted(os.listdir(tmp_path))
    assert not [n for n in names if ".claim-" in n]
    assert folder.is_dir() and (folder / "inside").read_bytes() == b"keep me"
    assert link.is_symlink()
    assert len([n for n in names if n.startswith(".corrupt-")]) == 2
