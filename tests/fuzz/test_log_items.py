"""Log and trace_metric items come from outside: any payload (JSON of any shape, bytes that are
not UTF-8, lone surrogates, odd attribute types) is kept in part or rejected with a one-line
reason, is stored without an SQLite error, and stays searchable; a logs query is parsed or
refused with a 400."""

from __future__ import annotations

import json
import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from releasetag.collector import log_intake, logs_api
from releasetag.collector.db.logs import LogFilter
from releasetag.collector.db.store import Store
from releasetag.collector.request_response import HTTPError
from releasetag.protocol.envelope import Item

EXAMPLES = int(os.environ.get("RELEASETAG_FUZZ_EXAMPLES", "150"))
TEXT = st.text(max_size=20)  # hypothesis' text includes lone surrogates
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
ATTRIBUTE = st.fixed_dictionaries(
    {
        "type": st.one_of(
            st.sampled_from(["string", "boolean", "integer", "double", "array"]), JSON
        ),
        "value": JSON,
    }  # fmt: skip
)
LOG = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.one_of(st.floats(allow_nan=True, allow_infinity=True), JSON),
        "level": st.one_of(st.sampled_from(["info", "warn", "warning", "bogus"]), JSON),
        "body": st.one_of(TEXT, JSON),
        "trace_id": st.one_of(st.uuids().map(lambda u: u.hex), JSON),
        "severity_number": JSON,
        "attributes": st.one_of(
            st.dictionaries(TEXT, st.one_of(ATTRIBUTE, JSON), max_size=5), JSON
        ),
        "name": JSON,
        "type": st.one_of(st.sampled_from(["counter", "gauge", "distribution"]), JSON),
        "value": st.one_of(st.floats(allow_nan=True), JSON),
    },
)


def _dumps(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


PAYLOAD = st.one_of(
    st.lists(st.one_of(LOG, JSON), max_size=5).map(lambda items: _dumps({"items": items})),
    JSON.map(_dumps),
    st.binary(max_size=60),
)
STORE = Store(os.path.join(tempfile.mkdtemp(prefix="rt-fuzz-logs-"), "db.sqlite3"))


@settings(max_examples=EXAMPLES, deadline=None)
@given(kind=st.sampled_from(["log", "trace_metric"]), payloads=st.lists(PAYLOAD, max_size=3))
def test_any_log_item_is_kept_in_part_or_rejected_with_a_reason(kind, payloads):
    batch = log_intake.LogItems()
    for payload in payloads:
        batch.add(Item({"type": kind}, payload))
    for item_type, reason in batch.rejected:
        assert item_type == kind and reason and "\n" not in reason
    before = STORE.count_logs(LogFilter())
    batch.store(STORE, 1)
    assert STORE.count_logs(LogFilter()) == before + len(batch.rows)
    for row in batch.rows:
        assert row[6] in log_intake.LEVELS
        json.loads(row[12])  # attributes are stored as JSON
        body = row[11].split()
        if body:  # what was stored can be found by a word of its body
            assert STORE.count_logs(LogFilter(text=body[0])) >= 1


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.text(max_size=40))
def test_a_logs_query_is_parsed_or_refused(text):
    try:
        query = logs_api.parse_query(text)
    except HTTPError as exc:
        assert exc.status == 400
        return
    STORE.count_logs(LogFilter(text=query.get("text", ""), level=query.get("level")))
