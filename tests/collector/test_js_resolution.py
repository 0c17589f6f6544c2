"""Minified JavaScript resolved by the collector: a real bundler (esbuild, from the npm
registry) builds a small app with maps, releasetag (and once sentry-cli) injects and uploads
it, the minified code runs in Node with the real ``@sentry/node`` SDK pointed at the
collector, and the stored event's frames must name the original files, lines and functions.

npm installs into a temporary folder once per test session (no vendored node_modules).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.collector import Collector

pytestmark = [pytest.mark.tools("node", "npm"), pytest.mark.timeout(600)]

APP = """\
export function formatTotal(order) {
  const total = order.items.reduce((sum, item) => sum + item.price, 0);
  return checkLimit(total);
}

function checkLimit(total) {
  if (total > 100) {
    throw new Error(`order total ${total} is over the limit`);
  }
  return total.toFixed(2);
}
"""
MAIN = """\
import * as Sentry from "@sentry/node";
import { formatTotal } from "./app.js";

Sentry.init({ dsn: process.env.DSN, release: process.env.RELEASE, defaultIntegrations: false });

export function handleCheckout() {
  return formatTotal({ items: [{ price: 60 }, { price: 70 }] });
}

try {
  handleCheckout();
} catch (err) {
  Sentry.captureException(err);
}
await Sentry.flush(5000);
"""
THROW_LINE = (
    APP.splitlines().index("    throw new Error(`order total ${total} is over the limit`);") + 1
)


@pytest.fixture(scope="session")
def node_modules(tmp_path_factory):
    """esbuild and @sentry/node installed from the npm registry into a temporary folder."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        pytest.fail("node and npm are needed (APT_PACKAGES in run-tests installs nodejs, npm)")
    folder = tmp_path_factory.mktemp("npm")
    (folder / "package.json").write_text('{"name": "rt-js-fixture", "private": true}')
    res = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "esbuild@0", "@sentry/node@10"],
        cwd=folder, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    if res.returncode != 0:
        pytest.fail(f"npm install failed: {res.stderr[-500:]}")
    return folder


def _build(folder, node_modules):
    """The app bundled and minified by esbuild with linked maps, ready to run in Node."""
    src = folder / "src"
    src.mkdir(parents=True)
    (src / "app.js").write_text(APP)
    (src / "main.js").write_text(MAIN)
    (folder / "package.json").write_text('{"type": "module"}')
    os.symlink(node_modules / "node_modules", folder / "node_modules")
    esbuild = node_modules / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [str(esbuild), "src/main.js", "--bundle", "--minify", "--sourcemap", "--platform=node",
         "--format=esm", "--external:@sentry/node", "--outfile=dist/main.min.js"],
        cwd=folder, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder / "dist"


def _cli(tool, collector, *args):
    cmd = [sys.executable, "-m", "releasetag"] if tool == "releasetag" else [
        os.path.join(os.path.dirname(sys.executable), "sentry-cli")
    ]  # fmt: skip
    res = subprocess.run([*cmd, *args], env=collector.env(), capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res


def _run_node(folder, collector, release):
    env = dict(os.environ, DSN=collector.dsn, RELEASE=release)
    res = subprocess.run(["node", "dist/main.min.js"], cwd=folder, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    events = collector.events()
    assert events, "the Node SDK's event did not arrive"
    return collector.event(events[0]["eventID"] if "eventID" in events[0] else events[0]["id"])


def _frames(event):
    (exc,) = event["payload"]["exception"]["values"]
    return exc["stacktrace"]["frames"], exc.get("raw_stacktrace", {}).get("frames", [])


@pytest.mark.parametrize("tool", ["releasetag", "sentry-cli"])
def test_node_sdk_event_is_resolved_by_debug_id(tool, node_modules, tmp_path):
    folder = tmp_path / "shop"
    dist = _build(folder, node_modules)
    collector = Collector(str(tmp_path / "data"))
    try:
        _cli(tool, collector, "sourcemaps", "inject", str(dist))
        _cli(tool, collector, "sourcemaps", "upload", "-r", "shop@1.0", str(dist))
        event = _run_node(folder, collector, "shop@1.0")
    finally:
        collector.stop()
    frames, raw = _frames(event)
    ours = [f for f in frames if "src/" in (f.get("filename") or "")]
    assert [f["function"] for f in ours][-3:] == ["handleCheckout", "formatTotal", "checkLimit"]
    thrower = ours[-1]
    assert thrower["filename"].endswith("src/app.js")
    assert thrower["lineno"] == THROW_LINE
    assert thrower["context_line"].strip().startswith("throw new Error(`order total")
    assert thrower["pre_context"][-1].strip() == "if (total > 100) {"
    assert thrower["data"]["resolution"]["resolved"] is True
    assert thrower["data"]["resolution"]["via"] == "debug ID"
    # the minified frames are kept beside them
    minified = [f for f in raw if (f.get("filename") or "").endswith("main.min.js")]
    assert minified and all(f["lineno"] <= 3 for f in minified)
    # the SDK's own frames (node_modules, node:internal) stay as they came
    assert all(f.get("filename") == r.get("filename") for f, r in zip(frames, raw)
               if "main.min.js" not in (r.get("filename") or ""))  # fmt: skip
