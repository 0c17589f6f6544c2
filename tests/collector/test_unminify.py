"""Resolution against a real collector without a JS runtime: files uploaded with the real
CLI, events sent with ``releasetag send-event FILE``: legacy release-file lookup, grouping on
the original frames, and every way a frame can fail to resolve (stored as it came, with the
reason, never a 500)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from releasetag.build.artifacts.rewrite import encode_mappings
from releasetag.collector.unminify import MapCache, ParsedMap

pytestmark = pytest.mark.timeout(120)

SOURCE = "function checkout(order) {\n  throw new Error('declined');\n}\n"
MINIFIED = "function a(o){throw new Error('declined')}\n//# sourceMappingURL=app.min.js.map\n"
# a@9 -> checkout (name 0) at 1:9; "throw" at col 14 -> 2:2
MAP = {
    "version": 3,
    "sources": ["src/shop.js"],
    "sourcesContent": [SOURCE],
    "names": ["checkout"],
    "mappings": encode_mappings([[(0, 0, 0, 0), (9, 0, 0, 9, 0), (14, 0, 1, 2)]]),
}


def _site(tmp_path, name="dist", smap=MAP):
    site = tmp_path / name
    site.mkdir()
    (site / "app.min.js").write_text(MINIFIED)
    (site / "app.min.js.map").write_text(json.dumps(smap))
    return site


def _cli(collector, *args):
    res = subprocess.run([sys.executable, "-m", "releasetag", *args], env=collector.env(),
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res


def _send(collector, tmp_path, *, url, release=None, dist=None, lineno=1, colno=15,
          images=None, function="a", extra_frames=()):  # fmt: skip
    event = {
        "platform": "javascript",
        "level": "error",
        "exception": {"values": [{"type": "Error", "value": "declined", "stacktrace": {
            "frames": [*extra_frames, {"abs_path": url, "filename": url, "function": function,
                                       "lineno": lineno, "colno": colno, "in_app": True}]}}]},
    }  # fmt: skip
    if release:
        event["release"] = release
    if dist:
        event["dist"] = dist
    if images:
        event["debug_meta"] = {"images": images}
    path = tmp_path / f"event-{len(list(tmp_path.glob('event-*')))}.json"
    path.write_text(json.dumps(event))
    out = _cli(collector, "send-event", "--dsn", collector.dsn, "--json", str(path))
    (sent,) = json.loads(out.stdout)["events"]
    stored = collector.event(sent["event_id"])
    return stored, stored["payload"]["exception"]["values"][0]


def test_legacy_release_files_resolve_by_url_and_dist(collector, tmp_path):
    site = _site(tmp_path)
    _cli(collector, "sourcemaps", "upload", "-r", "shop@2", "-d", "7",
         "-u", "https://shop.example/static", str(site))  # fmt: skip
    url = "https://shop.example/static/app.min.js"
    stored, exc = _send(collector, tmp_path, url=url, release="shop@2", dist="7")
    (frame,) = exc["stacktrace"]["frames"]
    assert (frame["filename"], frame["lineno"], frame["colno"], frame["function"]) == (
        "src/shop.js", 2, 3, "checkout")  # fmt: skip
    assert frame["context_line"] == "  throw new Error('declined');"
    assert frame["pre_context"] == ["function checkout(order) {"]
    assert frame["post_context"] == ["}", ""]
    assert frame["data"]["resolution"]["via"] == "release files"
    assert frame["data"]["sourcemap"] == "https://shop.example/static/app.min.js.map"
    assert exc["raw_stacktrace"]["frames"][0]["abs_path"] == url
    # Sentry's event API shape too
    (entry,) = stored["entries"]
    assert entry["data"]["values"][0]["rawStacktrace"]["frames"][0]["lineno"] == 1

    # the same error from another build (another release, other minified names) is one issue
    other = tmp_path / "v3"
    other.mkdir()
    (other / "app.min.js").write_text(
        "var z=1;function q(o){throw new Error('declined')}\n//# sourceMappingURL=app.min.js.map\n"
    )
    smap = dict(MAP, mappings=encode_mappings([[(0, 0, 0, 0), (17, 0, 0, 9, 0), (22, 0, 1, 2)]]))
    (other / "app.min.js.map").write_text(json.dumps(smap))
    _cli(collector, "sourcemaps", "upload", "-r", "shop@3", "-d", "7",
         "-u", "https://shop.example/static", str(other))  # fmt: skip
    stored3, exc3 = _send(collector, tmp_path, url=url, release="shop@3", dist="7", colno=23,
                          function="q")  # fmt: skip
    assert exc3["stacktrace"]["frames"][0]["function"] == "checkout"
    issues = collector.api("GET", f"/projects/{collector.org}/{collector.project}/issues/")
    assert len(issues) == 1 and issues[0]["count"] in (2, "2")


def test_every_failure_is_stored_with_its_reason(collector, tmp_path):
    site = _site(tmp_path)
    _cli(collector, "sourcemaps", "upload", "-r", "shop@2", "-d", "7",
         "-u", "https://shop.example/static", str(site))  # fmt: skip
    url = "https://shop.example/static/app.min.js"

    def steps(**kw):
        _, exc = _send(collector, tmp_path, url=kw.pop("url", url), **kw)
        frame = exc["stacktrace"]["frames"][-1]
        assert frame["data"]["resolution"]["resolved"] is False
        assert frame["lineno"] == kw.get("lineno", 1)  # left as it was
        return " | ".join(frame["data"]["resolution"]["steps"])

    assert "not for the event's dist '8'" in steps(release="shop@2", dist="8")
    assert "release other@1 has no uploaded files" in steps(release="other@1")
    text = steps(release="shop@2", dist="7", url="https://shop.example/static/app.js")
    assert "not among release shop@2's files" in text and "nearest: ~/static/app.min.js" not in text
    assert "nearest: https://shop.example/static/app.min.js" in text
    assert "outside the map" in steps(release="shop@2", dist="7", lineno=40)
    assert "no uploaded sourcemap has it" in steps(
        images=[
            {
                "type": "sourcemap",
                "code_file": url,
                "debug_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12,
            }
        ]
    )
    # a frame without a column is not touched at all
    _, exc = _send(collector, tmp_path, url=url, release="shop@2", dist="7",
                   extra_frames=[{"abs_path": url, "function": "b", "lineno": 1}])  # fmt: skip
    assert "data" not in exc["stacktrace"]["frames"][0]


def test_a_map_that_does_not_parse_and_a_debug_id_uploaded_twice(collector, tmp_path):
    broken = dict(MAP, mappings="!!!!")
    site = _site(tmp_path, smap=broken)
    _cli(collector, "sourcemaps", "inject", str(site))
    _cli(collector, "sourcemaps", "upload", "-r", "shop@4", "--no-rewrite", str(site))
    _cli(collector, "sourcemaps", "upload", "-r", "shop@5", "--no-rewrite", str(site))
    debug_id = json.loads((site / "app.min.js.map").read_text())["debugId"]
    url = "/srv/app/dist/app.min.js"
    _, exc = _send(collector, tmp_path, url=url,
                   images=[{"type": "sourcemap", "code_file": url, "debug_id": debug_id}])  # fmt: skip
    frame = exc["stacktrace"]["frames"][0]
    text = " | ".join(frame["data"]["resolution"]["steps"])
    assert "uploaded 2 times, the newest is used" in text
    assert "the sourcemap does not parse" in text
    assert frame["lineno"] == 1 and frame["function"] == "a"


def test_the_map_cache_is_bounded():
    data = json.dumps(MAP).encode()
    size = ParsedMap(data).size  # what one parsed map holds, not its file size
    cache = MapCache(limit=3 * size)
    for n in range(10):
        cache.get(("map", n), lambda: ParsedMap(data))
    assert len(cache._items) == 3 and cache.charged <= cache.limit
    first = cache.get(("map", 9), lambda: pytest.fail("parsed twice"))
    assert isinstance(first, ParsedMap)


def _run(collector, *args):
    return subprocess.run([sys.executable, "-m", "releasetag", *args], env=collector.env(),
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_explain_says_what_was_tried_per_frame(collector, tmp_path):
    site = _site(tmp_path)
    _cli(collector, "sourcemaps", "upload", "-r", "shop@2", "-d", "7",
         "-u", "https://shop.example/static", str(site))  # fmt: skip
    url = "https://shop.example/static/app.min.js"
    good, _ = _send(collector, tmp_path, url=url, release="shop@2", dist="7",
                    extra_frames=[{"abs_path": url, "function": "b", "lineno": 1}])  # fmt: skip
    res = _run(collector, "sourcemaps", "explain", good["id"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        f"frame 0: {url}:1 (b): no line and column to resolve",
        f"frame 1: {url}:1:15 (a) -> src/shop.js:2:3 (checkout)",
        "    no debug ID for this file in the event's debug_meta",
        f"    resolved through {url}.map (release files) to src/shop.js:2",
    ]
    bad, _ = _send(collector, tmp_path, url=url, release="shop@2", dist="8")
    res = _run(collector, "sourcemaps", "explain", bad["id"], "--frame", "0", "--json")
    (frame,) = json.loads(res.stdout)["frames"]
    assert frame["resolved"] is False and frame["minified"]["line"] == 1
    assert any("not for the event's dist '8'" in s for s in frame["steps"])

    for args, code, text in (
        (("nothex",), 2, "invalid event ID 'nothex'"),
        (("0" * 32,), 1, f"event {'0' * 32} not found"),
        ((good["id"], "--frame", "9"), 2, "--frame 9: the event has frames 0-1"),
    ):
        res = _run(collector, "sourcemaps", "explain", *args)
        assert res.returncode == code and text in res.stderr, res
        assert "Traceback" not in res.stderr


def test_the_event_page_shows_the_original_frame_and_why_others_failed(collector, tmp_path):
    site = _site(tmp_path)
    _cli(collector, "sourcemaps", "upload", "-r", "shop@2", "-d", "7",
         "-u", "https://shop.example/static", str(site))  # fmt: skip
    url = "https://shop.example/static/app.min.js"
    good, _ = _send(collector, tmp_path, url=url, release="shop@2", dist="7")
    bad, _ = _send(collector, tmp_path, url=url, release="shop@2", dist="9")
    status, page = collector.request("GET", f"/events/{good['id']}/", token=None)
    text = page.decode()
    assert status == 200
    assert "<code>src/shop.js</code> in <code>checkout</code> line 2" in text
    assert "<b>  throw new Error(&#x27;declined&#x27;);</b>" in text
    assert f"unminified with <code>{url}.map</code> (release files)" in text
    status, page = collector.request("GET", f"/events/{bad['id']}/", token=None)
    assert (
        "not unminified: " in page.decode()
        and "not for the event&#x27;s dist &#x27;9&#x27;" in page.decode()
    )


def test_an_upload_after_an_event_is_used_by_the_next_event(collector, tmp_path):
    """Lookups are remembered between events only until the artifacts change."""
    url = "https://shop.example/static/app.min.js"
    _, before = _send(collector, tmp_path, url=url, release="shop@6", dist="7")
    assert before["stacktrace"]["frames"][0]["data"]["resolution"]["resolved"] is False
    _cli(collector, "sourcemaps", "upload", "-r", "shop@6", "-d", "7",
         "-u", "https://shop.example/static", str(_site(tmp_path)))  # fmt: skip
    _, after = _send(collector, tmp_path, url=url, release="shop@6", dist="7")
    assert after["stacktrace"]["frames"][0]["function"] == "checkout"


def test_context_from_an_uploaded_source_when_the_map_has_none(collector, tmp_path):
    smap = {k: v for k, v in MAP.items() if k != "sourcesContent"}
    site = _site(tmp_path, smap=smap)
    (site / "src").mkdir()
    (site / "src" / "shop.js").write_text(SOURCE)
    _cli(collector, "sourcemaps", "upload", "-r", "shop@7", "--no-rewrite",
         "-u", "https://shop.example/static", str(site))  # fmt: skip
    url = "https://shop.example/static/app.min.js"
    _, exc = _send(collector, tmp_path, url=url, release="shop@7")
    frame = exc["stacktrace"]["frames"][0]
    assert frame["context_line"] == "  throw new Error('declined');"
    assert any("source context from the uploaded https://shop.example/static/src/shop.js" in s
               for s in frame["data"]["resolution"]["steps"])  # fmt: skip
    # without the source uploaded, the frame still resolves and says why there is no context
    (site / "src" / "shop.js").unlink()
    _cli(collector, "sourcemaps", "upload", "-r", "shop@8", "--no-rewrite",
         "-u", "https://shop.example/static", str(site))  # fmt: skip
    _, exc = _send(collector, tmp_path, url=url, release="shop@8")
    frame = exc["stacktrace"]["frames"][0]
    assert frame["lineno"] == 2 and "context_line" not in frame
    assert any("the source was not uploaded" in s for s in frame["data"]["resolution"]["steps"])


def test_suspect_commits_match_the_original_paths(collector, tmp_path):
    site = _site(tmp_path)
    _cli(collector, "sourcemaps", "upload", "-r", "shop@9", "-u", "https://shop.example/static",
         str(site))  # fmt: skip
    collector.api("PUT", f"/organizations/{collector.org}/releases/shop@9/", {"commits": [
        {"id": "a" * 40, "repository": "acme/shop", "author_name": "Ann", "message": "Checkout",
         "patch_set": [{"path": "web/src/shop.js", "type": "M"}]},
        {"id": "b" * 40, "repository": "acme/shop", "author_name": "Bo", "message": "Bundle",
         "patch_set": [{"path": "web/static/app.min.js", "type": "M"}]},
    ]})  # fmt: skip
    stored, _ = _send(collector, tmp_path, url="https://shop.example/static/app.min.js",
                      release="shop@9")  # fmt: skip
    committers = collector.api(
        "GET", f"/projects/{collector.org}/{collector.project}/events/{stored['id']}/committers/"
    )
    assert [c["author"]["name"] for c in committers["committers"]] == ["Ann"]


def test_an_event_of_thousands_of_unknown_files_is_answered_within_the_budget(collector, tmp_path):
    """Only the public key is needed to send this: 3,000 frames, each in a file the release
    does not have, against a release of 300 uploaded files. The collector answers, stores
    every frame with a reason, and gives nearest names only when a person asks."""
    from releasetag.collector.unminify import BUDGET_FILES, BUDGET_FRAMES

    site = tmp_path / "many"
    site.mkdir()
    for n in range(300):
        (site / f"chunk-{n:03d}.min.js").write_text(f"var c{n};\n")
    _cli(collector, "sourcemaps", "upload", "-r", "big@1", "--no-rewrite",
         "-u", "https://shop.example/static", str(site))  # fmt: skip
    frames = [{"abs_path": f"https://shop.example/static/chunk-{n:04d}.min.js", "function": "a",
               "lineno": 1, "colno": 5} for n in range(3000)]  # fmt: skip
    stored, exc = _send(collector, tmp_path, url="https://shop.example/static/chunk-007.js",
                        release="big@1", extra_frames=frames)  # fmt: skip
    stored_frames = exc["stacktrace"]["frames"]
    assert len(stored_frames) == 3001
    reasons = [" | ".join(f["data"]["resolution"]["steps"]) for f in stored_frames]
    assert all(f["data"]["resolution"]["resolved"] is False for f in stored_frames)
    # the innermost frames were looked up, up to the budget; the rest say why they were not
    looked_up = [r for r in reasons if "not among release big@1's files" in r]
    exhausted = [r for r in reasons if "resolution budget exhausted" in r]
    assert len(looked_up) == BUDGET_FILES and len(looked_up) + len(exhausted) == 3001
    assert "not among" in reasons[-1] and "resolution budget exhausted" in reasons[0]
    assert len(stored_frames) - BUDGET_FRAMES <= len(exhausted)
    assert stored_frames[0]["lineno"] == 1 and stored_frames[0]["colno"] == 5  # as it came
    # a person asking sees the nearest uploaded names: the event page and explain
    status, page = collector.request("GET", f"/events/{stored['id']}/", token=None)
    assert (
        status == 200 and "nearest: https://shop.example/static/chunk-007.min.js" in page.decode()
    )
    res = _run(collector, "sourcemaps", "explain", stored["id"], "--frame", "3000")
    assert (
        res.returncode == 0
        and "nearest: https://shop.example/static/chunk-007.min.js" in res.stdout
    ), res
