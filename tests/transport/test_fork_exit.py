"""Forked children, multiprocessing's os._exit, and SIGTERM: nothing lost, nothing twice."""

from __future__ import annotations

import signal

import pytest

from tests.transport.apps import run_app, start_app, stop, wait_line
from tests.transport.test_delivery_e2e import expect_each_once


@pytest.mark.parametrize("use_spool", [True, False], ids=["spool", "memory"])
def test_parent_and_four_forked_children_each_event_exactly_once(recorder, tmp_path, use_spool):
    # A slow server keeps the parent's queue full at the moment it forks.
    recorder.respond({"path": "/envelope/", "delay": 0.05})
    spool = str(tmp_path / "spool") if use_spool else None
    out = run_app(
        f"""
        releasetag.init({recorder.dsn()!r}, spool_dir={spool!r}, retry_policy=FAST,
                        default_integrations=False)
        for i in range(20):
            releasetag.capture_message(f"parent {{i}}")
        assert releasetag.delivery_stats()["queued"] > 5  # still queued when we fork
        children = []
        for k in range(4):
            pid = os.fork()
            if pid == 0:
                os.write(1, b"CHILD QUEUED %d\\n" % releasetag.delivery_stats()["queued"])
                for i in range(25):
                    releasetag.capture_message(f"child{{k}} {{i}}")
                ok = releasetag.flush(30)
                os._exit(0 if ok else 1)
            children.append(pid)
        codes = [os.waitpid(pid, 0)[1] for pid in children]
        print(releasetag.flush(30), codes)
    """,
        timeout=90,
    )
    assert "True [0, 0, 0, 0]" in out.stdout, out.stdout + out.stderr
    # each child starts with an empty queue: nothing the parent had queued
    assert out.stdout.count("CHILD QUEUED 0") == 4
    expected = [f"parent {i}" for i in range(20)]
    expected += [f"child{k} {i}" for k in range(4) for i in range(25)]
    expect_each_once(recorder, expected)


@pytest.mark.parametrize("module", ["multiprocessing", "billiard"])
def test_multiprocessing_child_leaving_through_os_exit_flushes(recorder, module):
    __import__(module)  # both in the test extra (billiard comes with celery)
    recorder.respond({"path": "/envelope/", "delay": 0.02})
    out = run_app(
        f"""
        import {module} as multiprocessing
        releasetag.init({recorder.dsn()!r}, retry_policy=FAST, default_integrations=False,
                        shutdown_timeout=10)
        def work(n):
            for i in range(n):
                releasetag.capture_message(f"worker {{i}}")
            # no flush here: multiprocessing ends the child with os._exit
        if __name__ == "__main__":
            ctx = multiprocessing.get_context("fork")
            p = ctx.Process(target=work, args=(30,))
            p.start()
            p.join(60)
            print("EXIT", p.exitcode)
    """,
        timeout=90,
    )
    assert "EXIT 0" in out.stdout, out.stderr
    expect_each_once(recorder, [f"worker {i}" for i in range(30)])


@pytest.mark.parametrize("previous", ["handler", "default"])
def test_sigterm_flushes_then_chains_to_the_previous_handler(recorder, previous):
    recorder.respond({"path": "/envelope/", "delay": 0.05})
    install = (
        "signal.signal(signal.SIGTERM, lambda s, f: (print('PREVIOUS', flush=True), sys.exit(3)))"
        if previous == "handler"
        else ""
    )
    proc = start_app(f"""
        import signal
        {install}
        releasetag.init({recorder.dsn()!r}, retry_policy=FAST, default_integrations=False,
                        flush_on_sigterm=True, shutdown_timeout=10)
        for i in range(20):
            releasetag.capture_message(f"ev {{i}}")
        print("READY", flush=True)
        time.sleep(60)
    """)
    try:
        wait_line(proc, "READY")
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    finally:
        stop(proc)
    if previous == "handler":
        assert "PREVIOUS" in rest and proc.returncode == 3
    else:
        assert proc.returncode == -signal.SIGTERM
    expect_each_once(recorder, [f"ev {i}" for i in range(20)])


@pytest.mark.parametrize("use_spool", [True, False], ids=["spool", "memory"])
def test_normal_exit_delivers_pending_and_exit_time_captures(recorder, tmp_path, use_spool):
    recorder.respond({"path": "/envelope/", "delay": 0.02})
    spool = str(tmp_path / "spool") if use_spool else None
    out = run_app(
        f"""
        import atexit
        releasetag.init({recorder.dsn()!r}, spool_dir={spool!r}, default_integrations=False,
                        shutdown_timeout=10)
        for i in range(40):
            releasetag.capture_message(f"ev {{i}}")
        # runs before releasetag's own exit handler (atexit is last in, first out)
        atexit.register(lambda: releasetag.capture_message("at exit"))
    """,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    expect_each_once(recorder, [f"ev {i}" for i in range(40)] + ["at exit"])


def test_sigterm_with_a_handler_that_keeps_running_still_sends_later_events(recorder):
    proc = start_app(f"""
        import signal
        stopping = []
        signal.signal(signal.SIGTERM, lambda s, f: stopping.append(s))  # e.g. graceful stop
        releasetag.init({recorder.dsn()!r}, retry_policy=FAST, default_integrations=False,
                        flush_on_sigterm=True)
        releasetag.capture_message("before")
        print("READY", flush=True)
        while not stopping:
            time.sleep(0.02)
        releasetag.capture_message("after")  # the app finishes its work, then exits
    """)
    try:
        wait_line(proc, "READY")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        stop(proc)
    assert proc.returncode == 0
    expect_each_once(recorder, ["before", "after"])
