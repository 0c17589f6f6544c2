"""A capture from a signal handler that interrupts the first capture of a process, while the
SDK is still importing what capturing and sending need, loses nothing."""

from __future__ import annotations

import json

from tests.transport.apps import event_messages, run_app

# Modules the first capture imports lazily (init() stays cheap). A meta path hook raises a
# real SIGALRM right when each one starts executing: the module is in sys.modules, still
# empty, so a handler that imports it gets a half-initialised module.
LAZY = [
    "releasetag.secret_patterns",
    "releasetag.protocol.jsonfmt",
    "http.client",
    "gzip",
    "random",
    "logging",
]

APP = """
import signal
import importlib.abc, importlib.util

LAZY = {lazy!r}
fired = []


class SignalOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name not in LAZY or name in fired:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        real = spec.loader.exec_module

        def exec_module(module):
            fired.append(name)
            signal.raise_signal(signal.SIGALRM)  # the handler runs before the module body
            real(module)

        spec.loader.exec_module = exec_module
        return spec


ids = []
signal.signal(signal.SIGALRM, lambda signum, frame: ids.append(
    releasetag.capture_message(f"from signal {{len(ids)}}")))
releasetag.init({dsn!r}, release="a@1", default_integrations=False, debug=True)
sys.meta_path.insert(0, SignalOnImport())
first = releasetag.capture_message("first")
try:
    1 / 0
except ZeroDivisionError:
    releasetag.capture_exception()
ok = releasetag.flush(10)
print(json.dumps({{"ok": ok, "fired": fired, "ids": ids, "first": first,
                  "stats": releasetag.delivery_stats()}}))
"""


def test_captures_from_a_signal_during_the_first_capture_all_arrive(recorder):
    app = run_app(APP.format(lazy=LAZY, dsn=recorder.dsn()))
    assert app.returncode == 0, app.stderr
    out = json.loads(app.stdout.strip().splitlines()[-1])
    assert out["fired"], "no lazy import happened during the first capture"
    assert out["ok"] is True and out["first"]
    assert all(out["ids"]) and len(out["ids"]) == len(out["fired"])
    assert out["stats"]["dropped"] == {}, out["stats"]
    assert "failed" not in app.stderr, app.stderr  # debug=True shows caught internal errors
    expected = ["first"] + [f"from signal {i}" for i in range(len(out["fired"]))]
    got = event_messages(recorder)
    assert sorted(m for m in got if m) == sorted(expected)
    events = recorder.events()
    assert len(events) == len(expected) + 1  # and the ZeroDivisionError
    assert {e["event_id"] for e in events} >= set(out["ids"])
