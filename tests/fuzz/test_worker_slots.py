"""Fuzzing what a gunicorn master reads after a worker died (its slot file, written by a
process that may have died mid-write or been replaced) and the WorkerLostError text Celery's
main process parses: a result, never an exception."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasetag.integrations import celery_lost, gunicorn

EXAMPLES = int(os.environ.get("RELEASETAG_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
MASTER = 4200000000 + os.getpid()  # a folder no master uses


@FUZZ
@given(data=st.binary(max_size=gunicorn.SLOT_SIZE + 64), busy=st.booleans())
def test_any_slot_file_reads_as_a_line_and_a_meta(data, busy):
    folder = gunicorn.slot_dir(MASTER)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "7"), "wb") as fh:
        fh.write((b"\x01" if busy else b"") + data)
    line, meta = gunicorn.read_slot(MASTER, 7)
    assert line is None or isinstance(line, str)
    assert isinstance(meta, dict) and (not meta or meta["slot"] is True)
    assert not os.path.exists(os.path.join(folder, "7"))
    os.rmdir(folder)


@FUZZ
@given(st.text(max_size=300))
def test_any_worker_lost_message_reads_as_a_status(text):
    signum, code = celery_lost.status_of(text)
    assert signum is None or code is None
