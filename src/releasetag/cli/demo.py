"""``releasetag demo``: the whole release loop on this machine, against a fresh collector.

The demo is a list of steps (``STEPS``); each takes the shared ``DemoState`` and returns a
one-line note. Every build-time step runs the real ``releasetag`` command against the
collector, so the demo shows (and exercises) what a build pipeline would do; the sample app
reports through the real SDK.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from releasetag.cli.output import table
from releasetag.collector.server import Collector
from releasetag.protocol.errors import ReleasetagError

RELEASE = "demo-shop@1.0.0"
SAMPLE_REMOTE = "https://git.example.com/demo/shop.git"
ENVIRONMENTS = ("staging", "production")


@dataclass
class DemoState:
    """What the steps share."""

    workdir: str
    collector: Optional[Collector] = None
    release: str = RELEASE
    notes: List[Tuple[str, str]] = field(default_factory=list)
    reported: List[str] = field(default_factory=list)  # ways the sample app reported errors
    gates: List[Dict[str, Any]] = field(default_factory=list)  # health gate runs

    @property
    def live(self) -> Collector:
        """The collector the first step started."""
        assert self.collector is not None, "the collector is not started"
        return self.collector

    # -- Web API over plain HTTP --------------------------------------------------------------
    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: Optional[bytes] = None,
        content_type: str = "application/json",
    ) -> Any:
        info = self.live.info
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(
            info.api_url.rstrip("/") + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {info.token}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise ReleasetagError(
                f"demo: {method} {path} failed with HTTP {exc.code}: {detail}"
            ) from None
        return json.loads(payload) if payload else None


def run_cli(state: DemoState, *args: str, cwd: Optional[str] = None) -> str:
    """Run ``releasetag ARGS`` against the demo collector; its stdout, or ReleasetagError."""
    code, out, err = run_cli_code(state, *args, cwd=cwd)
    if code != 0:
        last = (err.strip().splitlines() or ["no output"])[-1]
        raise ReleasetagError(f"demo: releasetag {' '.join(args[:2])} failed: {last}")
    return out


def run_cli_code(state: DemoState, *args: str, cwd: Optional[str] = None) -> Tuple[int, str, str]:
    """Run ``releasetag ARGS`` against the demo collector: (exit code, stdout, stderr)."""
    info = state.live.info
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "RELEASETAG_"))}
    env.update(
        SENTRY_URL=info.url,
        SENTRY_AUTH_TOKEN=info.token,
        SENTRY_ORG=info.org,
        SENTRY_PROJECT=info.project,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", *args],
        cwd=cwd or state.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


# -- steps -----------------------------------------------------------------------------------
# Each build-time step uses the releasetag CLI when its command is installed, else plain HTTP.
def start_collector(state: DemoState, port: int = 0) -> str:
    state.collector = Collector(os.path.join(state.workdir, "collector"), port=port).start()
    return f"collector at {state.live.info.url}"


def create_release(state: DemoState) -> str:
    run_cli(state, "releases", "new", state.release)
    return f"release {state.release} (releasetag releases new)"


def _git(repo: str, *args: str) -> str:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="Demo Dev",
        GIT_AUTHOR_EMAIL="dev@example.com",
        GIT_COMMITTER_NAME="Demo Dev",
        GIT_COMMITTER_EMAIL="dev@example.com",
    )
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=30, env=env
    ).stdout


def _sample_repo(state: DemoState) -> str:
    repo = os.path.join(state.workdir, "shop-repo")
    os.makedirs(repo, exist_ok=True)
    _git(repo, "init", "-q")
    _git(repo, "remote", "add", "origin", SAMPLE_REMOTE)
    with open(os.path.join(repo, "shop.py"), "w") as fh:
        fh.write("def checkout(cart):\n    return charge(cart)\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "Add checkout")
    with open(os.path.join(repo, "payments.py"), "w") as fh:
        fh.write("LIMIT = 100\n")
    with open(os.path.join(repo, "shop.py"), "a") as fh:
        fh.write("\n# charge against the card limit\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "Charge against the card limit")
    return repo


def associate_commits(state: DemoState) -> str:
    if shutil.which("git") is None:
        return "skipped: git is not installed"
    repo = None
    try:
        top = _git(os.getcwd(), "rev-parse", "--show-toplevel").strip()
        if top and _git(top, "rev-parse", "HEAD").strip():
            repo, where = top, "this repository"
    except (subprocess.CalledProcessError, OSError):
        repo = None
    if repo is None:
        repo, where = _sample_repo(state), "a sample repository"
    run_cli(state, "releases", "set-commits", state.release, "--local", cwd=repo)
    rel = state.live.store.release(state.release)
    count = state.live.store.commit_count(rel["id"]) if rel else 0
    return f"{count} commits from {where} (releasetag releases set-commits --local)"


SAMPLE_JS = "function add(a,b){return a+b}\n//# sourceMappingURL=app.min.js.map\n"
SAMPLE_MAP = json.dumps(
    {
        "version": 3,
        "file": "app.min.js",
        "sources": ["app.js"],
        "names": ["add", "a", "b"],
        "sourcesContent": ["function add(a, b) {\n  return a + b;\n}\n"],
        "mappings": "AAAA,SAASA,IAAIC,EAAGC",
    }
)


def upload_sourcemap(state: DemoState) -> str:
    dist = os.path.join(state.workdir, "dist")
    os.makedirs(dist, exist_ok=True)
    with open(os.path.join(dist, "app.min.js"), "w") as fh:
        fh.write(SAMPLE_JS)
    with open(os.path.join(dist, "app.min.js.map"), "w") as fh:
        fh.write(SAMPLE_MAP)
    run_cli(state, "sourcemaps", "inject", dist)
    run_cli(state, "sourcemaps", "upload", "--release", state.release, dist)
    files = state.live.store.release_artifacts(state.release)
    ids = sorted({f["debug_id"] for f in files if f["debug_id"]})
    return (
        f"sourcemap bundle with debug ID {', '.join(ids) or '(none)'} "
        "(releasetag sourcemaps inject/upload)"
    )


def record_deploys(state: DemoState) -> str:
    for env in ENVIRONMENTS:
        run_cli(state, "deploys", "new", "-r", state.release, "-e", env, "-n", f"{env}-1")
    run_cli(state, "releases", "finalize", state.release)
    return "deploys to " + ", ".join(ENVIRONMENTS) + " (releasetag deploys new)"


def _run_app(
    state: DemoState, release: str, environments: Tuple[str, ...], crashes: int = 0
) -> List[str]:
    reported: List[str] = []
    for env in environments:
        proc = subprocess.run(
            [sys.executable, "-m", "releasetag.cli.sample_app"],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(
                os.environ,
                RELEASETAG_DSN=state.live.info.dsn,
                RELEASETAG_RELEASE=release,
                RELEASETAG_ENVIRONMENT=env,
                RELEASETAG_DEMO_CRASHES=str(crashes),
            ),
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ReleasetagError(f"demo: the sample app failed: {last}")
        reported = json.loads(proc.stdout.strip().splitlines()[-1])["reported"]
    return reported


def run_sample_app(state: DemoState) -> str:
    state.reported = _run_app(state, state.release, ENVIRONMENTS)
    return "sample app reported via " + ", ".join(state.reported)


# -- what releases tell: a fix, and a later release that brings the error back -----------------
FIX_RELEASE = "demo-shop@1.0.1"
REGRESS_RELEASE = "demo-shop@1.0.2"
REGRESS_CRASHES = 8  # of the sample app's 50 requests (1.0.0 crashes in none)
GATE = ("--min-crash-free-sessions", "95")


def _payment_issue(state: DemoState) -> Optional[str]:
    """The short ID of the sample app's PaymentDeclined issue."""
    from releasetag.collector.insights import short_id_of

    row = state.live.store.first_group_with_exception("PaymentDeclined")
    return short_id_of(state.live.store, dict(row)) if row else None


def _release_with_commit(
    state: DemoState, version: str, message: str, path: str, text: str
) -> None:
    """Create ``version`` with one new commit of the sample repository that appends ``text``
    to ``path`` (its message says ``message``), both through the releasetag CLI; without git,
    the release gets a commit record made up here."""
    run_cli(state, "releases", "new", version)
    if shutil.which("git") is None:
        info = state.live.info
        commit = {
            "id": uuid.uuid4().hex[:40],
            "repository": "demo/shop",
            "message": message,
            "author_name": "Demo Dev",
            "author_email": "dev@example.com",
            "patch_set": [{"path": path, "type": "M"}],
        }
        state.api("PUT", f"/organizations/{info.org}/releases/{version}/", {"commits": [commit]})
        return
    repo = os.path.join(state.workdir, "shop-repo")
    if not os.path.isdir(os.path.join(repo, ".git")):
        repo = _sample_repo(state)
    with open(os.path.join(repo, path), "a") as fh:
        fh.write(text)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", message)
    # the new commit only: the previous release's commits may come from another repository
    run_cli(
        state,
        "releases",
        "set-commits",
        version,
        "--local",
        "--ignore-missing",
        "--initial-depth",
        "1",
        cwd=repo,
    )


def release_a_fix(state: DemoState) -> str:
    short = _payment_issue(state)
    if short is None:
        return "skipped: the sample app reported no PaymentDeclined error"
    _release_with_commit(
        state,
        FIX_RELEASE,
        f"Fixes {short}: check the card limit first",
        "shop.py",
        "\n# check the card limit before charging\n",
    )
    org = state.live.info.org
    deploy = state.api(
        "POST",
        f"/organizations/{org}/releases/{FIX_RELEASE}/deploys/",
        {"environment": "production", "name": "production-2"},
    )
    told = ", ".join(n["email"] for n in deploy.get("notifications", [])) or "nobody"
    return (
        f"{FIX_RELEASE} resolves {short} by its commit message 'Fixes {short}'; deploy "
        f"recorded, would have mailed {told} (serve --smtp to send)"
    )


def regress_in_later_release(state: DemoState) -> str:
    short = _payment_issue(state)
    if short is None:
        return "skipped: no PaymentDeclined issue"
    # the sample repository stands for the app the demo runs: this commit touches the file
    # of its raising frames (releasetag/cli/sample_app.py), so it becomes the suspect
    _release_with_commit(
        state,
        REGRESS_RELEASE,
        "Simplify checkout",
        "sample_app.py",
        "# charge first, check later\n",
    )
    run_cli(state, "deploys", "new", "-r", REGRESS_RELEASE, "-e", "production", "-n", "canary")
    _run_app(state, REGRESS_RELEASE, ("production",), crashes=REGRESS_CRASHES)
    issue = state.api("GET", f"/issues/{short}/")
    status = issue.get("substatus") or issue["status"]
    suspect = (issue.get("assignedTo") or {}).get("name") or "nobody"
    return f"{REGRESS_RELEASE} brings {short} back: status {status}, suspect commit by {suspect}"


def gate_releases(state: DemoState) -> str:
    """The health gate a pipeline runs after a canary, on the first and the regressing
    release: the first passes, the regressing one fails (exit 3) with its breach."""
    results = []
    for version in (state.release, REGRESS_RELEASE):
        code, out, err = run_cli_code(
            state, "releases", "health", version, "-e", "production", *GATE
        )
        if code not in (0, 3, 4):
            last = (err.strip().splitlines() or ["no output"])[-1]
            raise ReleasetagError(f"demo: releasetag releases health failed: {last}")
        breach = next((line for line in out.splitlines() if "threshold" in line), "")
        verdict = {0: "passes", 3: "fails", 4: "has no verdict"}[code]
        results.append(f"{version} {verdict} (exit {code}){': ' + breach if breach else ''}")
        state.gates.append({"release": version, "exit": code, "output": out.strip()})
    return "; ".join(results) + f" (releasetag releases health -e production {' '.join(GATE)})"


Step = Tuple[str, Callable[[DemoState], str]]
STEPS: List[Step] = [
    ("create the release", create_release),
    ("associate commits", associate_commits),
    ("upload a sourcemap", upload_sourcemap),
    ("record deploys", record_deploys),
    ("run the sample app", run_sample_app),
    ("release a fix", release_a_fix),
    ("regress in a later release", regress_in_later_release),
    ("gate the releases on their health", gate_releases),
]


def summary(state: DemoState) -> Dict[str, Any]:
    store = state.live.store
    rows = store.event_counts_by_release()
    rel = store.release(state.release)
    return {
        "events": [
            {"release": r["release"], "environment": r["environment"], "count": r["n"]}
            for r in rows
        ],
        "commits": store.commit_count(rel["id"]) if rel else 0,
        "deploys": len(store.deploys(rel["id"])) if rel else 0,
        "artifacts": len(store.release_artifacts(state.release)),
        "page": state.live.info.page,
        "dsn": state.live.info.dsn,
        "url": state.live.info.url,
        "org": state.live.info.org,
        "project": state.live.info.project,
        "token": state.live.info.token,
        "reported": state.reported,
        "issues": _issue_summary(state),
        "health": _health_summary(state),
        "gates": state.gates,
        "steps": [{"step": n, "note": note} for n, note in state.notes],
    }


def _health_summary(state: DemoState) -> List[Dict[str, Any]]:
    from releasetag.collector import health

    store = state.live.store
    return [
        {"release": rel["version"], **row}
        for rel in reversed(store.releases())
        for row in health.release_health(store, rel["version"])
    ]


def _issue_summary(state: DemoState) -> List[Dict[str, Any]]:
    from releasetag.collector import insights

    store = state.live.store
    out = []
    project = store.project(state.live.info.project)
    assert project is not None
    for row in insights.issues(store, project["id"]) + insights.issues(
        store, project["id"], status="resolved"
    ):
        regs = insights.regressions(store, row["id"])
        out.append(
            {
                "shortId": insights.short_id_of(store, row),
                "title": row["title"],
                "status": row["status"],
                "events": row["times_seen"],
                "firstRelease": insights.release_version(store, row["first_release_id"]),
                "resolvedIn": regs[-1]["resolved_release"]
                if regs
                else insights.release_version(store, row["resolved_release_id"]),
                "regressedIn": regs[-1]["release"] if regs else None,
            }
        )
    return sorted(out, key=lambda i: int(i["shortId"].rsplit("-", 1)[1]))


def _print_summary(data: Dict[str, Any]) -> None:
    out = sys.stdout
    for step in data["steps"]:
        out.write(f"  ok  {step['step']}: {step['note']}\n")
    out.write(
        "\n"
        + table(
            ["release", "environment", "events"],
            [[e["release"], e["environment"], e["count"]] for e in data["events"]],
        )
        + "\n\n"
    )
    out.write(
        table(
            ["commits", "deploys", "artifacts"],
            [[data["commits"], data["deploys"], data["artifacts"]]],
        )
        + "\n\n"
    )
    out.write(
        table(
            ["issue", "title", "status", "events", "first release", "resolved in", "regressed in"],
            [
                [
                    i["shortId"],
                    i["title"][:50],
                    i["status"],
                    i["events"],
                    i["firstRelease"] or "",
                    i["resolvedIn"] or "",
                    i["regressedIn"] or "",
                ]
                for i in data["issues"]
            ],
        )
        + "\n\n"
    )

    def pct(rate: Any) -> str:
        return "n/a" if rate is None else f"{rate * 100:.2f}%"

    out.write(
        table(
            ["release", "environment", "sessions", "crashed", "crash-free sessions", "adoption"],
            [
                [
                    h["release"],
                    h["environment"],
                    h["sessions"],
                    h["crashed"],
                    pct(h["crash_free_sessions"]),
                    pct(h["adoption"]),
                ]
                for h in data["health"]
            ],
        )
        + "\n\n"
    )
    out.flush()


def _keep_serving(args: argparse.Namespace) -> bool:
    """Serve on after the steps: with ``--keep``, or when a person watches the terminal."""
    if args.keep:
        return True
    return not args.json and sys.stdin.isatty() and sys.stdout.isatty()


def _closing_words(data: Dict[str, Any], workdir: str, serving: bool, kept: bool) -> str:
    what = "releases, their health, issues, events, commits, deploys and artifacts"
    if serving:
        return (
            f"Open {data['page']} to see {what}. The collector keeps serving (data in "
            f"{workdir}); press Ctrl+C to stop.\n"
        )
    if kept:
        return (
            f"The demo's collector has stopped. To see {what}, serve its data again: "
            f"releasetag serve --data {os.path.join(workdir, 'collector')}\n"
        )
    return (
        "The demo's collector has stopped and its data was removed. Run "
        "`releasetag demo --keep` to keep it serving, or `releasetag demo --data DIR` "
        "to keep the data.\n"
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``releasetag demo``."""
    temp = None
    if args.data:
        workdir = os.path.abspath(args.data)
        os.makedirs(workdir, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="releasetag-demo-")
        workdir = temp
    state = DemoState(workdir)
    serving = _keep_serving(args)
    try:
        state.notes.append(("start the collector", start_collector(state, args.port)))
        for name, step in STEPS:
            state.notes.append((name, step(state)))
        data = summary(state)
        if args.json:
            sys.stdout.write(json.dumps(data) + "\n")
        else:
            _print_summary(data)
            sys.stdout.write(_closing_words(data, workdir, serving, kept=temp is None))
        sys.stdout.flush()
        if serving:
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0
    finally:
        if state.collector is not None:
            state.collector.stop()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
