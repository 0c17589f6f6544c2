"""Child process for the core scenarios (run by bench/scn_core.py; one sample per process).

Usage: python bench/_child_core.py COMMAND SDK [DSN] [N]
  SDK is releasetag, sentry_sdk or none (the bare program: same work, no SDK).
  Prints ``RESULT {json}`` as its last line. ``ops-*`` commands do N operations untimed,
  for instruction counting under callgrind (the harness subtracts the N=0 run).
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import statistics
import sys
import time

RELEASE = "benchapp@1.0.0"
ENVIRONMENT = "bench"
PRESSURE_FRAMES = 30
# stdlib modules that releasetag's init() imports first (sentry_sdk imports them at import)
STDLIB_PRELOAD = (
    "dataclasses",
    "inspect",
    "typing",
    "logging",
    "socket",
    "urllib.parse",
    "json",
    "gzip",
    "traceback",
    "linecache",
    "re",
    "ipaddress",
    "selectors",
)


def emit(data):
    sys.stdout.write("RESULT " + json.dumps(data) + "\n")
    sys.stdout.flush()


def finish(data):
    """Print the result and leave at once: no SDK's exit-time flush is part of a sample."""
    if _profiler is not None:
        _save_profile()
    emit(data)
    os._exit(0)


# --- optional: hide installed frameworks (BENCH_HIDE_MODULES=flask,celery,...) ---------------
class _HideModules:
    """A meta path finder that makes the named top-level packages look not installed."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (hidden by the bench)", name=fullname
            )
        return None


if os.environ.get("BENCH_HIDE_MODULES"):
    sys.meta_path.insert(0, _HideModules(os.environ["BENCH_HIDE_MODULES"].split(",")))


# --- optional profiling (bench/hotspots.py sets BENCH_PROFILE=FILE) -------------------------
_profiler = None
if os.environ.get("BENCH_PROFILE"):
    import _lsprof  # the C profiler alone: cProfile/pstats would pre-import modules

    _profiler = _lsprof.Profiler()


class profiled:
    """Context manager: profile the block when BENCH_PROFILE is set (accumulates)."""

    def __enter__(self):
        if _profiler is not None:
            _profiler.enable()

    def __exit__(self, *exc):
        if _profiler is not None:
            _profiler.disable()


def _save_profile():
    import cProfile

    stats = _profiler.getstats()
    prof = cProfile.Profile()
    prof.getstats = lambda: stats
    prof.create_stats = lambda: prof.snapshot_stats()
    prof.dump_stats(os.environ["BENCH_PROFILE"])


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)


def import_sdk(sdk):
    if sdk == "releasetag":
        import releasetag

        return releasetag
    if sdk == "sentry_sdk":
        import sentry_sdk

        return sentry_sdk
    return None


def init_sdk(sdk, mod, dsn, **extra):
    """init() as a user writes it: DSN, release, environment, default integrations.

    ``dsn == "null"``: a transport that discards events (instruction counts of the app thread).
    """
    if mod is None:
        return
    if dsn == "null":
        dsn, extra["transport"] = "http://publickey@127.0.0.1:9/42", null_transport(sdk)
    mod.init(dsn=dsn, release=RELEASE, environment=ENVIRONMENT, **extra)


def null_transport(sdk):
    if sdk == "sentry_sdk":
        from sentry_sdk.transport import Transport

        class NullSentryTransport(Transport):
            def capture_envelope(self, envelope):
                pass

            def flush(self, timeout, callback=None):
                pass

        return NullSentryTransport

    from releasetag.transport import Transport

    class NullTransport(Transport):
        def capture_event(self, event):
            return True

        def send_envelope(self, envelope):
            return True

    return NullTransport


def queue_option(sdk, size):
    return {"transport_queue_size": size}


# --- the workload: a 30-frame chained exception with local variables ----------------------
class Order:
    def __init__(self, n):
        self.id = n
        self.lines = [("sku-%d" % i, i * 3) for i in range(5)]

    def __repr__(self):
        return "<Order %d with %d lines>" % (self.id, len(self.lines))


def descend(depth, order):
    customer = {
        "id": depth,
        "name": "customer-%d" % depth,
        "tier": "gold",
        "password": "hunter2",
        "tags": ["a", "b", "c"],
    }
    totals = [depth * i for i in range(10)]
    note = "processing order %d at depth %d" % (order.id, depth)
    ratio = depth / 7.0
    if depth <= 1:
        try:
            int("not a number %d" % depth)
        except ValueError as exc:
            raise LookupError("order %d could not be priced" % order.id) from exc
    return descend(depth - 1, order) + len(note) + len(totals) + len(customer) + int(ratio)


def make_exception(i, frames=PRESSURE_FRAMES):
    """A fresh LookupError (30 frames, locals in each) caused by a ValueError."""
    try:
        descend(frames, Order(i))
    except LookupError as exc:
        return exc
    raise AssertionError("no exception")


def small_exception(i):
    return make_exception(i, frames=5)


# --- commands ------------------------------------------------------------------------------
def cmd_import(sdk):
    t0 = time.perf_counter()
    with profiled():
        import_sdk(sdk)
    elapsed = time.perf_counter() - t0
    heavy = sorted(
        m for m in ("requests", "git", "urllib3", "certifi", "wrapt") if m in sys.modules
    )
    finish({"time": elapsed * 1e3, "modules": len(sys.modules), "heavy": heavy})


def sentry_style_options(sdk):
    """The options a sentry-sdk app passes (issue 25): tracing and profiling rates, logs, and
    integrations with their arguments; the same names for both SDKs."""
    if sdk == "none":
        return {}
    pkg = "sentry_sdk" if sdk == "sentry_sdk" else "releasetag"
    logging_mod = importlib.import_module(f"{pkg}.integrations.logging")
    threading_mod = importlib.import_module(f"{pkg}.integrations.threading")
    return {
        "traces_sample_rate": 1.0,
        "profiles_sample_rate": 0.0,
        "enable_logs": True,
        "attach_stacktrace": False,
        "max_breadcrumbs": 50,
        "send_default_pii": False,
        "integrations": [
            logging_mod.LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
            threading_mod.ThreadingIntegration(propagate_scope=True),
        ],
    }


def cmd_init(sdk, dsn, sentry_style=False):
    t0 = time.perf_counter()
    mod = import_sdk(sdk)
    before = set(sys.modules)
    t1 = time.perf_counter()
    with profiled():
        init_sdk(sdk, mod, dsn, **(sentry_style_options(sdk) if sentry_style else {}))
    t2 = time.perf_counter()
    finish(
        {
            "time": (t2 - t1) * 1e3,
            "total": (t2 - t0) * 1e3,
            "new_modules": len(set(sys.modules) - before),
        }
    )


def _timed_calls(mod, n, call, warm=10):
    for i in range(warm):
        call(i)
        mod.flush(10)
    times = []
    for i in range(n):
        with profiled():
            t0 = time.perf_counter()
            call(i)
            times.append(time.perf_counter() - t0)
        mod.flush(10)  # delivery happens outside the timed window
    return times


def cmd_capture_exception(sdk, dsn, n):
    mod = import_sdk(sdk)
    init_sdk(sdk, mod, dsn)
    errors = [make_exception(i) for i in range(n + 10)]
    times = _timed_calls(mod, n, lambda i: mod.capture_exception(errors[i]))
    finish({"time": statistics.median(times) * 1e6, "mean": statistics.mean(times) * 1e6})


def cmd_capture_message(sdk, dsn, n):
    mod = import_sdk(sdk)
    init_sdk(sdk, mod, dsn)
    times = _timed_calls(
        mod, n, lambda i: mod.capture_message("cache miss for key %d" % i, "warning")
    )
    finish({"time": statistics.median(times) * 1e6, "mean": statistics.mean(times) * 1e6})


def cmd_throughput(sdk, dsn, n):
    mod = import_sdk(sdk)
    init_sdk(sdk, mod, dsn, **queue_option(sdk, n + 100))
    mod.capture_message("warm-up")
    mod.flush(30)
    t0 = time.perf_counter()
    for i in range(n):
        mod.capture_message("event %d of the throughput run" % i, "warning")
    queued = time.perf_counter() - t0
    ok = mod.flush(300)
    elapsed = time.perf_counter() - t0
    finish(
        {"rate": n / elapsed, "seconds": elapsed, "capture_seconds": queued, "flushed": bool(ok)}
    )


def cmd_rss(sdk, dsn, n, warm=100):
    gc.collect()
    bare = rss_mb()
    mod = import_sdk(sdk)
    gc.collect()
    after_import = rss_mb()
    init_sdk(sdk, mod, dsn)
    gc.collect()
    after_init = rss_mb()
    after_warm = after_init
    for i in range(n):
        exc = small_exception(i)
        if mod is not None:
            mod.capture_exception(exc)
            if i % 50 == 49:
                mod.flush(30)
        del exc
        if i == warm - 1:
            if mod is not None:
                mod.flush(30)
            gc.collect()
            after_warm = rss_mb()
    if mod is not None:
        mod.flush(60)
    gc.collect()
    after = rss_mb()
    finish(
        {
            "bare": bare,
            "import": after_import,
            "init": after_init,
            "warm": after_warm,
            "events": after,
            "init_delta": after_init - bare,
            "events_delta": after - after_init,
            "growth": after - after_warm,
        }
    )


def cmd_ops(kind, sdk, dsn, n):
    """N operations of ``kind``, nothing timed (for callgrind's instruction counts)."""
    if kind == "import":
        if n:
            import_sdk(sdk)
        finish({"n": n})
    if kind == "init_preloaded":  # the stdlib modules releasetag's init() imports, loaded first
        for name in STDLIB_PRELOAD:
            __import__(name)
        kind = "init"
    mod = import_sdk(sdk)
    if kind == "init":
        if n:
            init_sdk(sdk, mod, dsn)
        finish({"n": n})
    init_sdk(sdk, mod, dsn, **queue_option(sdk, n + 100))
    warm = 3
    if kind == "deliver":
        for i in range(warm):
            mod.capture_message("warm %d" % i, "warning")
        mod.flush(30)
        for i in range(n):
            mod.capture_message("event %d of the throughput run" % i, "warning")
        mod.flush(120)
    elif kind == "capture_exception":
        errors = [make_exception(i) for i in range(warm + 20)]
        for i in range(warm):
            mod.capture_exception(errors[i])
            mod.flush(10)
        for i in range(n):
            mod.capture_exception(errors[warm + i])
            mod.flush(10)
    elif kind == "capture_message":
        for i in range(warm):
            mod.capture_message("warm %d" % i, "warning")
            mod.flush(10)
        for i in range(n):
            mod.capture_message("cache miss for key %d" % i, "warning")
            mod.flush(10)
    else:
        raise SystemExit(f"unknown ops kind {kind!r}")
    finish({"n": n})


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "import":
        return cmd_import(args[0])
    if cmd == "init":
        return cmd_init(args[0], args[1])
    if cmd == "init-sentry-style":
        return cmd_init(args[0], args[1], sentry_style=True)
    if cmd in ("capture_exception", "capture_message", "throughput", "rss"):
        fn = globals()["cmd_" + cmd]
        return fn(args[0], args[1], int(args[2]))
    if cmd == "ops":
        return cmd_ops(args[0], args[1], args[2], int(args[3]))
    raise SystemExit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
