"""WSGI under gunicorn with a load generator (wrk): bare vs releasetag vs sentry-sdk middleware.

Each sample starts ``gunicorn -w 2`` (sync workers) on a free 127.0.0.1 port with the
hello-world app of bench/_wsgi_app.py, waits until it answers, runs
``wrk -t2 -c8 -d3s --latency`` against it (2 s in --quick), and stops gunicorn. Reported:
requests/s, mean and p99 latency. wrk shares the 2 cores with the workers, so the absolute
figures are low; the ratios between the variants are what counts. Skipped (with a message)
when wrk or gunicorn is missing: ``apt-get install wrk``, ``pip install gunicorn``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from typing import Optional, Tuple

from .harness import Context, Scenario, SkipScenario

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    """requests/s, mean and p99 latency (ms) from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    mean = _ms(re.search(r"Latency\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses")
    return {"rps": rps, "latency": mean, "p99": p99}


def _setup(ctx: Context) -> None:
    if not shutil.which("wrk"):
        raise SkipScenario("wrk is not installed (apt-get install wrk)")
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        raise SkipScenario("gunicorn is not installed (pip install gunicorn)") from None


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer within 30 s")


def load_gunicorn(
    ctx: Context, sdk: str, extra_env: Optional[dict] = None, args: Tuple[str, ...] = ()
) -> str:
    """Start ``gunicorn -w 2`` with bench/_wsgi_app.py for ``sdk`` on a free port, warm both
    workers, run wrk against it and stop gunicorn (its workers exit); wrk's output."""
    port = _free_port()
    env = dict(
        ctx.env,
        BENCH_WSGI_SDK=sdk,
        BENCH_DSN=ctx.recorder.dsn(),
        PYTHONPATH=os.pathsep.join([os.path.join(ctx.root, "src"), ctx.root]),
        **(extra_env or {}),
    )
    log = open(os.path.join(ctx.tmpdir, f"gunicorn-{sdk}.log"), "w")
    proc = subprocess.Popen(
        [
            ctx.python,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench._wsgi_app:app",
            *args,  # more gunicorn options (scn_killed.py: --preload)
        ],
        env=env,
        cwd=ctx.root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/hello?a=1"
        _wait_ready(url, proc)
        for _ in range(50):  # both workers warm (first request per worker is slower)
            urllib.request.urlopen(url, timeout=5).read()
        seconds = 2 if ctx.quick else 3
        return subprocess.run(
            ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def _variant(sdk: str):
    def run(ctx: Context) -> dict:
        return parse_wrk(load_gunicorn(ctx, sdk))

    return run


SCENARIOS = [
    Scenario(
        name="integrations.gunicorn",
        title="hello-world WSGI app under gunicorn (2 workers), wrk 8 connections",
        variants={v: _variant(v) for v in ("releasetag", "sentry_sdk", "bare")},
        metrics={"rps": "req/s", "latency": "ms", "p99": "ms"},
        bare="bare",
        higher_is_better=("rps",),
        repeats=3,
        quick_repeats=1,
        warmup=0,
        setup=_setup,
        notes="wrk -t2 -c8 for 3 s (2 s in --quick) per sample; gunicorn and wrk share the "
        "2 cores, so compare the ratios, not the absolute rates",
    ),
]
