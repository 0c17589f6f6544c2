"""A Sentry-compatible server that implements ingest and uploads but not releases, commits or
deploys (common among self-hosted ones): each step names the real cause (this server does not
implement the endpoint, and what it said), and ``--allow-failure`` turns it into a warning
while the steps the server does implement still work."""

from __future__ import annotations

import pytest

from tests.artifacts.test_upload import chunk_options  # the server's chunk-upload answer

pytestmark = pytest.mark.timeout(120)

HTML_404 = (
    "<!DOCTYPE html><html><head><title>Page not found at /api/0/organizations/acme/releases/"
    "</title><style>body{}</style></head><body><h1>Not Found</h1></body></html>"
)


def _partial(recorder):
    recorder.reset()
    recorder.respond(
        chunk_options(recorder),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
        {"path": "/deploys/", "status": 404, "body": "404 page not found\n",
         "headers": {"Content-Type": "text/plain"}},
        {"path": "/releases/", "method": "PUT", "status": 501,
         "body": {"error": "unimplemented"}},
        {"path": "/releases/", "status": 404, "body": HTML_404,
         "headers": {"Content-Type": "text/html; charset=utf-8"}},
        {"path": "/repos/", "status": 405, "body": ""},
    )  # fmt: skip


STEPS = [
    (
        ("releases", "new", "1.0"),
        "error: the server at {host} does not implement POST /organizations/acme/releases/ "
        "(404; it said: Page not found at /api/0/organizations/acme/releases/)",
    ),
    (
        ("releases", "finalize", "1.0"),
        "error: the server at {host} does not implement PUT /organizations/acme/releases/1.0/ "
        '(501; it said: {{"error": "unimplemented"}})',
    ),
    (
        ("releases", "deploys", "1.0", "new", "-e", "production"),
        "error: the server at {host} does not implement POST "
        "/organizations/acme/releases/1.0/deploys/ (404; it said: 404 page not found)",
    ),
    (
        ("releases", "set-commits", "1.0", "-c", "acme/web@" + "a" * 40),
        "error: the server at {host} does not implement",
    ),
]


@pytest.mark.parametrize("args, expected", STEPS, ids=[" ".join(s[0][:2]) for s in STEPS])
def test_each_unimplemented_step_names_the_cause(rt, recorder, args, expected):
    _partial(recorder)
    host = recorder.url.split("//", 1)[1]
    res = rt(*args)
    assert res.code == 1, res
    assert len(res.err.splitlines()) == 1, res.err
    assert res.err.startswith(expected.format(host=host)), res.err
    assert "not found (404)" not in res.err and "organization 'acme'" not in res.err
    assert "--allow-failure makes this a warning" in res.err
    allowed = rt(*args, "--allow-failure")
    assert allowed.code == 0, allowed
    assert allowed.err.startswith("warning: the server at ") and "(ignored: --allow-failure)" in (
        allowed.err
    )
    assert "makes this a warning" not in allowed.err


def test_a_pipeline_with_allow_failure_still_uploads(rt, recorder, tmp_path):
    _partial(recorder)
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "app.min.js").write_text("function a(){}\n//# sourceMappingURL=app.min.js.map\n")
    (dist / "app.min.js.map").write_text(
        '{"version":3,"sources":["app.js"],"names":[],"mappings":"AAAA"}'
    )
    codes = []
    for args in (
        ("releases", "new", "1.0"),
        ("sourcemaps", "upload", "-r", "1.0", str(dist)),
        ("releases", "finalize", "1.0"),
        ("releases", "deploys", "1.0", "new", "-e", "production"),
    ):
        res = rt(*args, RELEASETAG_ALLOW_FAILURE="1")
        codes.append(res.code)
        assert "Traceback" not in res.err
    assert codes == [0, 0, 0, 0]
    assembled = recorder.requests("/artifactbundle/assemble/")
    assert assembled and assembled[0].json()["version"] == "1.0"


def test_sentry_not_found_still_names_the_org(rt, recorder):
    """Sentry's own JSON 404 to a known endpoint keeps meaning "no such organization"."""
    recorder.respond({"status": 404, "body": {"detail": "The requested resource does not exist"}})
    res = rt("releases", "new", "1.0", "-o", "nope")
    assert res.code == 1 and "organization 'nope' not found (404)" in res.err
    assert "does not implement" not in res.err


def test_our_collector_unknown_endpoint_reads_as_unimplemented(rt, recorder):
    recorder.respond(
        {"status": 404, "body": {"detail": "no such endpoint: POST /api/0/organizations/acme/x/"}}
    )
    res = rt("releases", "new", "1.0")
    assert res.code == 1 and "does not implement POST" in res.err
