"""Plugs the CLI and collector benchmark scripts into ``python -m bench`` (adapters only).

- ``cli.*``: bench/bench_cli.py's one-run timer (``_time``) for ``releases new``,
  ``releases finalize``, ``deploys new`` and ``propose-version`` against sentry-cli's same
  command, alternating; issue 16 goal: at most 8x sentry-cli's median wall time.
- ``collector.ingest``: bench/bench_collector_ingest.py run as a child (``--json``); issue 5
  goal: >= 500 events/s and p99 < 50 ms from 8 concurrent senders (no reference tool).
bench/bench_artifacts.py (200 MB of sourcemaps against sentry-cli, minutes per sample) is run
on its own: ``python bench/bench_artifacts.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict

from .harness import BENCH_DIR, ChildError, Context, Goal, Scenario, SkipScenario

WRAPS = ("bench_cli", "bench_collector_ingest")
_BIN = os.path.dirname(sys.executable)


# --- CLI start-up: releasetag vs sentry-cli, one command each --------------------------------
# (name, releasetag args, sentry-cli args): the same request against the same server
CLI_COMMANDS = (
    ("releases_new", ("releases", "new", "1.0"), ("releases", "new", "1.0")),
    ("releases_finalize", ("releases", "finalize", "1.0"), ("releases", "finalize", "1.0")),
    (
        "deploys_new",
        ("deploys", "new", "-r", "1.0", "-e", "production"),
        ("deploys", "new", "-r", "1.0", "-e", "production"),
    ),
    ("propose_version", ("propose-version",), ("releases", "propose-version")),
)
DEPLOY = {"id": "1", "environment": "production", "name": None, "url": None,
          "dateStarted": None, "dateFinished": "2024-01-01T00:00:00Z"}  # fmt: skip


def _cli_setup(ctx: Context) -> None:
    from . import bench_cli

    if not os.path.exists(os.path.join(_BIN, "sentry-cli")):
        raise SkipScenario(
            "sentry-cli is not installed next to this Python (pip install sentry-cli)"
        )
    rec = ctx.recorder
    rec.reset()
    rec.respond(
        {"path": "/deploys/", "status": 201, "body": DEPLOY},
        {"path": "/releases/1.0/", "method": "PUT", "body": bench_cli.RELEASE},
        {"path": "/releases/", "status": 201, "body": bench_cli.RELEASE},
    )
    env = dict(
        ctx.env,
        SENTRY_URL=rec.url + "/",
        SENTRY_AUTH_TOKEN="bench-token",
        SENTRY_ORG="acme",
        SENTRY_PROJECT="web",
        SENTRY_DISABLE_UPDATE_CHECK="1",
        HOME=ctx.tmpdir,
    )
    # the children run this tree's releasetag (the runner imports it from src/), not whatever
    # the console script would find by itself; BENCH_RELEASETAG_SRC=other/src times another
    # checkout's (a "before" figure) with the same scenarios
    import releasetag

    env["PYTHONPATH"] = os.environ.get("BENCH_RELEASETAG_SRC") or os.path.dirname(
        os.path.dirname(os.path.abspath(releasetag.__file__))
    )
    ctx.notes.setdefault("_cli_env", {})["env"] = env


def _cli_https_setup(ctx: Context) -> None:
    """_cli_setup against a second recording server that speaks TLS (a trustme certificate
    for localhost; both tools get its CA in the CA bundle variables)."""
    import trustme

    from tests.support.recorder import Recorder

    from . import bench_cli

    _cli_setup(ctx)
    ca = trustme.CA()
    cert_pem = os.path.join(ctx.tmpdir, "server.pem")
    ca_pem = os.path.join(ctx.tmpdir, "ca.pem")
    ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(cert_pem)
    ca.cert_pem.write_to_path(ca_pem)
    rec = Recorder(tls=(cert_pem, ca_pem))
    ctx.notes["_cli_https"] = rec
    rec.respond(
        {"path": "/deploys/", "status": 201, "body": DEPLOY},
        {"path": "/releases/1.0/", "method": "PUT", "body": bench_cli.RELEASE},
        {"path": "/releases/", "status": 201, "body": bench_cli.RELEASE},
    )
    env = ctx.notes["_cli_env"]["env"]
    env.update(SENTRY_URL=rec.url + "/", SSL_CERT_FILE=ca_pem, CURL_CA_BUNDLE=ca_pem)
    env.update(REQUESTS_CA_BUNDLE=ca_pem)


def _cli_https_teardown(ctx: Context) -> None:
    rec = ctx.notes.pop("_cli_https", None)
    if rec is not None:
        rec.stop()
    _cli_teardown(ctx)


def _cli_teardown(ctx: Context) -> None:
    ctx.notes.pop("_cli_env", None)
    if ctx._recorder is not None:
        ctx.recorder.reset()


def _cli(tool: str, args) -> Any:
    def run(ctx: Context) -> Dict[str, float]:
        from . import bench_cli

        env = ctx.notes["_cli_env"]["env"]
        # propose-version reads the git HEAD of the repository the bench runs in
        wall, cpu = bench_cli._time([os.path.join(_BIN, tool), *args], env, cwd=BENCH_DIR)
        return {"wall": wall * 1e3, "cpu": cpu * 1e3}

    return run


def _cli_scenario(name: str, ours, theirs, https: bool = False) -> Scenario:
    """One CLI command timed against sentry-cli's, over HTTP or (``https``) a TLS server."""
    if https:
        where, setup, teardown = (
            "over HTTPS (fresh process each, local TLS server)",
            _cli_https_setup,
            _cli_https_teardown,
        )
        goals = (
            Goal("wall", 10.0, "issue 23", text="<= 10x sentry-cli's median wall time"),
            Goal("wall", 150, "issue 23", against="value", text="releasetag median <= 150 ms"),
        )
        notes = "the TLS handshake and the CA bundle's load are in both tools' figures"
    else:
        where, setup, teardown = "(fresh process each, local server)", _cli_setup, _cli_teardown
        goals = (Goal("wall", 8.0, "issue 16", text="<= 8x sentry-cli's median wall time"),)
        notes = (
            "a pure-Python CLI against a native binary: the floor is the interpreter's own "
            "start (about 15-20 ms here); `python -X importtime` shows the rest"
        )
    return Scenario(
        name=f"cli.{'https.' if https else ''}{name}",
        title=f"`releasetag {' '.join(ours)}` vs `sentry-cli {' '.join(theirs)}` {where}",
        variants={"releasetag": _cli("releasetag", ours), "sentry_cli": _cli("sentry-cli", theirs)},
        reference="sentry_cli",
        metrics={"wall": "ms", "cpu": "ms"},
        repeats=15,
        quick_repeats=3,
        setup=setup,
        teardown=teardown,
        goals=goals,
        notes=notes,
    )


# --- collector ingest ----------------------------------------------------------------------
def _ingest(ctx: Context) -> Dict[str, Any]:
    seconds = 3 if ctx.quick else 10
    proc = subprocess.run(
        [
            ctx.python,
            os.path.join(BENCH_DIR, "bench_collector_ingest.py"),
            "--json",
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        env=ctx.env,
        cwd=ctx.tmpdir,
    )
    if proc.returncode != 0:
        raise ChildError(
            f"bench_collector_ingest.py exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
        )
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    ctx.notes.setdefault("collector.ingest", {})["events answered / stored (last run)"] = (
        f"{res['events']} / {res['stored']}"
    )
    return {"rate": res["events_per_s"], "p99": res["p99_ms"], "p50": res["p50_ms"]}


SCENARIOS = [
    *(_cli_scenario(*c) for c in CLI_COMMANDS),
    *(_cli_scenario(*c, https=True) for c in CLI_COMMANDS if c[0] != "propose_version"),
    Scenario(
        name="collector.ingest",
        title="releasetag serve: sustained ingest from 8 concurrent keep-alive senders",
        variants={"releasetag": _ingest},
        reference=None,
        metrics={"rate": "events/s", "p99": "ms", "p50": "ms"},
        higher_is_better=("rate",),
        repeats=2,
        quick_repeats=1,
        warmup=0,
        goals=(
            Goal("rate", None, "issue 5", against="value", min_ratio=500, text="events/s >= 500"),
            Goal("p99", 50, "issue 5", against="value", text="p99 < 50 ms"),
        ),
        notes="each sample: python bench/bench_collector_ingest.py --json (10 s; 3 s with --quick)",
    ),
]
