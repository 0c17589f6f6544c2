"""``sourcemaps upload`` flags on their own: the bounded wait, ignore rules, nothing to
upload, and bad input (one line, the right exit code, nothing sent)."""

from __future__ import annotations

import json
import time

import pytest

from tests.artifacts.test_upload import chunk_options

pytestmark = pytest.mark.timeout(120)


def _site(tmp_path):
    dist = tmp_path / "dist"
    (dist / "vendor" / "keep").mkdir(parents=True)
    (dist / "app.min.js").write_text("a();\n//# sourceMappingURL=app.min.js.map\n")
    (dist / "app.min.js.map").write_text('{"version":3,"sources":["a.js"],"sourcesContent":["a()"],'
                                         '"names":[],"mappings":"AAAA"}')  # fmt: skip
    (dist / "vendor" / "lib.js").write_text("lib();\n")
    (dist / "vendor" / "keep" / "kept.js").write_text("kept();\n")
    (dist / "notes.txt").write_text("not uploaded\n")
    return dist


def test_wait_is_bounded_and_a_pending_server_is_a_warning(rt, recorder, tmp_path):
    dist = _site(tmp_path)
    recorder.respond(
        chunk_options(recorder),
        {"path": "/artifactbundle/assemble/", "body": {"state": "created", "missingChunks": []}},
    )
    start = time.monotonic()
    res = rt("sourcemaps", "upload", "-r", "1.0", "--wait-for", "1", str(dist),
             RELEASETAG_POLL_INTERVAL="0.1")  # fmt: skip
    assert time.monotonic() - start < 20
    assert res.code == 0, res
    assert "warning: the server stored the bundle but had not finished processing it" in res.err
    assert len(recorder.requests("/artifactbundle/assemble/")) >= 3  # it did poll
    strict = rt("sourcemaps", "upload", "-r", "1.0", "--wait-for", "0.5", "--strict", str(dist),
                RELEASETAG_POLL_INTERVAL="0.1")  # fmt: skip
    assert strict.code == 1 and "(--strict)" in strict.err, strict


def test_server_max_wait_caps_the_wait(rt, recorder, tmp_path):
    dist = _site(tmp_path)
    recorder.respond(
        chunk_options(recorder, maxWait=1),
        {"path": "/artifactbundle/assemble/", "body": {"state": "assembling", "missingChunks": []}},
    )
    start = time.monotonic()
    res = rt("sourcemaps", "upload", "-r", "1.0", "--wait", str(dist),
             RELEASETAG_POLL_INTERVAL="0.1")  # fmt: skip
    assert res.code == 0 and time.monotonic() - start < 20, res


def test_ignore_globs_and_ignore_file(rt, recorder, tmp_path):
    _site(tmp_path)
    (tmp_path / ".uploadignore").write_text("dist/vendor/\n!dist/vendor/keep/\n")
    recorder.respond(
        chunk_options(recorder),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    res = rt("sourcemaps", "upload", "-r", "1.0", "--json", "-i", "*.map", "dist", cwd=tmp_path)
    assert res.code == 0, res
    assert json.loads(res.out)["files"] == 3  # app.min.js, lib.js, kept.js
    res = rt("sourcemaps", "upload", "-r", "1.0", "--json", "-I", ".uploadignore", "dist",
             cwd=tmp_path)  # fmt: skip
    assert res.code == 0, res
    assert json.loads(res.out)["files"] == 2  # app.min.js and its map; vendor/ is ignored
    res = rt("sourcemaps", "upload", "-r", "1.0", "--json", "-x", "txt", "dist", cwd=tmp_path)
    assert json.loads(res.out)["files"] == 1  # only notes.txt


def test_nothing_to_upload_is_a_warning_unless_strict(rt, recorder, tmp_path):
    (tmp_path / "empty").mkdir()
    res = rt("sourcemaps", "upload", "-r", "1.0", str(tmp_path / "empty"))
    assert res.code == 0 and res.err.startswith("warning: nothing to upload"), res
    res = rt("sourcemaps", "upload", "-r", "1.0", "--strict", str(tmp_path / "empty"))
    assert res.code == 1 and res.err == "error: no files to upload (--strict)\n", res
    assert recorder.requests("/artifactbundle/") == []


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("--wait-for", "0"), 2, "argument --wait-for: must be a number of seconds above 0"),
        (("--wait-for", "-3"), 2, "argument --wait-for: must be a number of seconds above 0"),
        (("--wait-for", "soon"), 2, "argument --wait-for: expected a number of seconds"),
        (("-I", "missing.ignore"), 2, "--ignore-file missing.ignore: no such file"),
        (("-d", "x" * 65), 2, "the dist must be at most 64 characters"),
        (("-r", "latest"), 2, "'latest' is reserved"),
        (("-r", "a\\b"), 2, "must not contain a backslash"),
        (("--bogus",), 2, "unrecognized arguments: --bogus"),
        (("--no-rewrite", "--strip-common-prefix"), 2,
         "argument --strip-common-prefix: not allowed with argument --no-rewrite"),
    ],
)  # fmt: skip
def test_bad_flags_are_one_line(rt, recorder, tmp_path, args, code, message):
    dist = _site(tmp_path)
    res = rt("sourcemaps", "upload", "-r", "1.0", *args, str(dist))
    assert res.code == code, res
    assert res.err.splitlines()[-1].startswith("error: ") and message in res.err, res
    assert "Traceback" not in res.err
    assert recorder.requests("/artifactbundle/") == []


def test_a_glob_that_matches_nothing(rt, recorder, tmp_path):
    dist = _site(tmp_path)
    recorder.respond(
        chunk_options(recorder),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    res = rt("sourcemaps", "upload", "-r", "1.0", str(tmp_path / "build-*"), str(dist))
    assert res.code == 1, res
    assert f"error: {tmp_path / 'build-*'}: no files match this pattern" in res.err
    res = rt("sourcemaps", "upload", "-r", "1.0", str(tmp_path / "dis?"), "--json")
    assert json.loads(res.out)["files"] == 4  # a glob that matches is expanded


def test_explain_against_a_sentry_shaped_server(rt, recorder):
    """Sentry's event API has no recorded steps: explain asks its source-map-debug endpoint,
    and says so when the server has none."""
    event_id = "ab" * 16
    minified = {"filename": "app:///main.min.js", "lineno": 1, "colno": 99, "function": "t"}
    python_frame = {"filename": "app.py", "lineno": 3}
    event = {"id": event_id, "entries": [{"type": "exception", "data": {"values": [{
        "type": "Error",
        "stacktrace": {"frames": [python_frame, minified]},
        "rawStacktrace": None,
    }]}}]}  # fmt: skip
    recorder.respond(
        {"path": "/source-map-debug/", "body": {"errors": [
            {"type": "no_release_on_event", "message": "The event is missing a release"}]}},
        {"path": f"/events/{event_id}/", "body": event},
    )  # fmt: skip
    res = rt("sourcemaps", "explain", event_id)
    assert res.code == 0, res
    assert res.out.splitlines() == [
        "frame 0: app.py:3: no line and column to resolve",
        "frame 1: app:///main.min.js:1:99 (t): not resolved",
        "    The event is missing a release",
    ]
    (debug,) = recorder.requests("/source-map-debug/")
    assert debug["query"] == {"frame_idx": "1", "exception_idx": "0"}
    recorder.reset()
    recorder.respond({"path": "/source-map-debug/", "status": 404, "body": "<html>nope</html>",
                      "headers": {"Content-Type": "text/html"}},
                     {"path": f"/events/{event_id}/", "body": event})  # fmt: skip
    res = rt("sourcemaps", "explain", event_id, "--frame", "1")
    assert res.out.splitlines()[1] == "    the server recorded no resolution steps for this frame"
