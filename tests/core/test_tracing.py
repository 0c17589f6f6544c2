"""Tracing calls written for sentry-sdk run unchanged: spans give events their trace context,
propagation headers continue the trace, odd arguments never raise (in process, quick)."""

from __future__ import annotations

import asyncio
import re
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

import releasetag
from releasetag.testing import capture_events

TRACE = "771a43a4192642f0b136d5159a501700"
PARENT = "1234567890abcdef"


def _trace(event):
    return event["contexts"]["trace"]


def test_error_inside_nested_spans_carries_the_inner_span_ids():
    with capture_events(release="app@1") as events:
        with releasetag.start_transaction(op="task", name="nightly") as tx:
            with releasetag.start_span(op="db", description="load") as outer:
                with outer.start_child(op="db.query", name="select") as inner:
                    inner.set_status("ok")
                    try:
                        {}["missing"]
                    except KeyError:
                        releasetag.capture_exception()
            releasetag.capture_message("in the transaction")
        releasetag.capture_message("after")
    ctx = _trace(events[0])
    assert ctx["trace_id"] == tx.trace_id == outer.trace_id == inner.trace_id
    assert ctx["span_id"] == inner.span_id and ctx["parent_span_id"] == outer.span_id
    assert outer.parent_span_id == tx.span_id
    assert (ctx["op"], ctx["description"], ctx["status"]) == ("db.query", "select", "ok")
    assert events[0]["transaction"] == "nightly"
    assert events[0]["transaction_info"] == {"source": "custom"}
    assert _trace(events[1])["span_id"] == tx.span_id
    assert "transaction" not in events[2]  # the transaction ended with its block
    assert events[2].get("contexts", {}).get("trace", {}).get("span_id") != tx.span_id


def test_trace_decorator_on_sync_and_async_functions():
    @releasetag.trace
    def plain():
        releasetag.capture_message("sync")
        return releasetag.get_current_span()

    @releasetag.trace(op="job", name="fetch-all")
    async def fetch():
        await asyncio.sleep(0)
        releasetag.capture_message("async")
        return releasetag.get_current_span()

    with capture_events() as events:
        with releasetag.start_transaction(name="outer") as tx:
            span = plain()
            aspan = asyncio.run(fetch())
    assert releasetag.get_current_span() is None
    assert span.description.endswith("plain") and span.parent_span_id == tx.span_id
    assert (aspan.op, aspan.description) == ("job", "fetch-all")
    assert _trace(events[0])["span_id"] == span.span_id
    assert _trace(events[1])["span_id"] == aspan.span_id
    assert {_trace(e)["trace_id"] for e in events} == {tx.trace_id}


def test_incoming_sentry_trace_is_continued_and_propagated_downstream():
    headers = {
        "sentry-trace": f"{TRACE}-{PARENT}-1",
        "baggage": f"sentry-trace_id={TRACE},sentry-release=up@2,vendor=x",
    }
    with capture_events(release="app@1") as events:
        with releasetag.isolation_scope():
            tx = releasetag.continue_trace(headers, op="http.server", name="GET /")
            assert (tx.trace_id, tx.parent_span_id) == (TRACE, PARENT)
            with releasetag.start_transaction(tx):
                with releasetag.start_span(op="http.client") as span:
                    parent = releasetag.get_traceparent()
                    baggage = releasetag.get_baggage()
                    releasetag.capture_message("inside")
            releasetag.capture_message("outside the spans, same request")
    assert parent == f"{TRACE}-{span.span_id}-1"
    assert baggage == f"sentry-trace_id={TRACE},sentry-release=up@2"  # upstream's, frozen
    assert _trace(events[0])["trace_id"] == TRACE
    assert _trace(events[1])["trace_id"] == TRACE


def test_propagation_outside_spans_uses_the_isolation_scope_trace():
    with capture_events(release="app@1", environment="prod") as _events:
        with releasetag.isolation_scope():
            parent = releasetag.get_traceparent()
            assert re.fullmatch(r"[0-9a-f]{32}-[0-9a-f]{16}", parent)
            baggage = releasetag.get_baggage()
            assert baggage.startswith(f"sentry-trace_id={parent[:32]},sentry-environment=prod")
            assert "sentry-release=app@1" in baggage


def test_spans_in_threads_and_tasks_do_not_leak_into_each_other():
    seen = {}

    def work(name):
        with releasetag.start_span(op=name) as span:
            seen[name] = (span, releasetag.get_current_span())

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(span is current for span, current in seen.values())
    assert releasetag.get_current_span() is None


def test_span_api_surface_apps_use():
    span = releasetag.start_span(op="x")
    span.set_tag("k", "v")
    span.set_data("d", 1)
    span.set_http_status(503)
    span.set_measurement("m", 1.0, "millisecond")
    releasetag.set_measurement("m", 2)
    assert span.status == "internal_error"
    assert dict(span.iter_headers())["sentry-trace"] == span.to_traceparent()
    assert span.finish() is None and span.timestamp is not None
    releasetag.update_current_span(op="nothing active")  # no span: no error
    tx = releasetag.start_transaction(name="t", source="route", unknown_kwarg=1)
    assert tx.source == "route" and tx.containing_transaction is tx


@settings(max_examples=60, deadline=None)
@given(
    value=st.one_of(
        st.none(),
        st.text(max_size=80),
        st.lists(st.text(max_size=60), max_size=3),
        st.binary(max_size=60),
        st.integers(),
    ),
    op=st.one_of(st.none(), st.integers(), st.text(max_size=10)),
)
def test_odd_arguments_never_raise(value, op):
    tx = releasetag.continue_trace({"sentry-trace": value, "baggage": value})
    with releasetag.start_transaction(tx, op=op):
        with releasetag.start_span(op=op, description=value) as span:
            assert re.fullmatch(r"[0-9a-f]{32}", span.trace_id)
            releasetag.update_current_span(op=op, name=value, data=value)
    releasetag.continue_trace(value)  # not even a mapping


def test_several_sentry_trace_values_take_the_first_valid_one():
    tx = releasetag.continue_trace(
        {"sentry-trace": ["garbage", f"{TRACE}-{PARENT}-0", f"{'b' * 32}-{'c' * 16}"]}
    )
    assert (tx.trace_id, tx.parent_span_id, tx.parent_sampled) == (TRACE, PARENT, False)
    environ = {"HTTP_SENTRY_TRACE": f"nonsense, {TRACE}-{PARENT}"}
    assert releasetag.continue_trace(environ).trace_id == TRACE


def test_logs_and_check_ins_inside_a_span_carry_its_ids():
    from releasetag import crons
    from releasetag.testing import CapturingTransport

    transport = CapturingTransport()
    releasetag.init(transport=transport, enable_logs=True, default_integrations=False)
    try:
        with releasetag.start_span(op="task", name="nightly") as span:
            releasetag.logger.info("inside {where}", where="span")
            check_in_trace = crons.trace_context()
        releasetag.logger.info("outside")
        releasetag.flush(2)
    finally:
        releasetag.close(timeout=0)
    inside, outside = transport.logs
    assert (inside["trace_id"], inside["span_id"]) == (span.trace_id, span.span_id)
    assert "span_id" not in outside and outside["trace_id"] != ""
    assert (check_in_trace["trace_id"], check_in_trace["span_id"]) == (span.trace_id, span.span_id)
