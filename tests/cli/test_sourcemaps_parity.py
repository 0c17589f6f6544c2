"""``sourcemaps upload`` side by side with the real sentry-cli: the same flags on the same
tree against the recording server; the bundles are put back together from the uploaded
chunks and their manifests and files compared.

Deliberate differences (README, "sourcemaps upload and sentry-cli"):
- a map that needs no rewriting is uploaded byte for byte (sentry-cli re-serializes every
  map); rewritten maps are compared as decoded mappings, sources, contents and names;
- a map's relative sources are read from the map's own folder (sentry-cli reads them from
  the working folder); this tree's relative sources carry their content;
- sources without content are read only from inside the uploaded folders or a
  ``--source-root`` (sentry-cli reads any path a map names); this tree's absolute sources
  live beside ``dist``, so our run names the project as ``--source-root``;
- ``-I FILE`` patterns are relative to FILE's folder, as in git (sentry-cli matches them
  against the walked paths as given); this test runs both from the ignore file's folder;
- the bundle's manifest carries no ``note`` key when there is no ``--note`` for both.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile

import pytest

from releasetag.build.artifacts.rewrite import decode_mappings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CHUNK_OPTIONS = {
    "chunkSize": 8 * 1024 * 1024,
    "chunksPerRequest": 64,
    "maxRequestSize": 32 * 1024 * 1024,
    "maxFileSize": 2 * 1024 * 1024 * 1024,
    "concurrency": 1,
    "hashAlgorithm": "sha1",
    "compression": ["gzip"],
    "accept": ["artifact_bundles", "release_files", "sources", "debug_files"],
}


def _script(recorder):
    recorder.reset()
    recorder.respond(
        {
            "path": "/chunk-upload/",
            "method": "GET",
            "body": dict(
                CHUNK_OPTIONS, url=recorder.url + "/api/0/organizations/acme/chunk-upload/"
            ),
        },
        {"path": "/artifactbundle/assemble/", "times": 1, "missing_all": True},
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )


def _bundle(recorder):
    """The bundle the last upload sent: its chunks, in the assemble order, gunzipped."""
    chunks = {}
    for req in recorder.requests("/chunk-upload/"):
        if req["method"] != "POST":
            continue
        boundary = re.search(r"boundary=\"?([^\";]+)", req["headers"]["content-type"]).group(1)
        for raw in req.body.split(b"--" + boundary.encode())[1:]:
            if raw.startswith(b"--"):
                break
            head, _, data = raw.partition(b"\r\n\r\n")
            data = data[:-2]
            name = re.search(rb'filename="([^"]+)"', head).group(1).decode()
            chunks[name] = gzip.decompress(data) if b'name="file_gzip"' in head else data
    assemble = recorder.requests("/artifactbundle/assemble/")[0].json()
    data = b"".join(chunks[c] for c in assemble["chunks"])
    assert data[:4] == b"SYSB"
    with zipfile.ZipFile(io.BytesIO(data[8:])) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        files = {n: zf.read(n) for n in zf.namelist() if n != "manifest.json"}
    return assemble, manifest, files


def _tree(tmp_path):
    proj = tmp_path / "proj"
    src = proj / "src"
    src.mkdir(parents=True)
    (src / "app.js").write_text("export function start() {\n  return util();\n}\n")
    (src / "util.js").write_text("export function util() {\n  return 42;\n}\n")
    dist = proj / "dist"
    (dist / "legacy").mkdir(parents=True)
    (dist / ".cache").mkdir()
    # absolute sources without content: inlined from disk, common prefix stripped
    (dist / "app.min.js").write_text(
        "function start(){return util()}function util(){return 42}\n"
        "//# sourceMappingURL=app.min.js.map\n"
    )
    (dist / "app.min.js.map").write_text(
        json.dumps(
            {
                "version": 3,
                "file": "app.min.js",
                "sources": [str(src / "app.js"), str(src / "util.js")],
                "names": ["start", "util"],
                "mappings": "AAAA,SAASA,QAAQ,OAAOC,MCAxB,SAASA,OAAO,OAAO",
            }
        )
    )
    # relative sources with content: a prefix stripped
    (dist / "vendor.min.js").write_text(
        "var lib=function(){return 1};\n//# sourceMappingURL=vendor.min.js.map\n"
    )
    (dist / "vendor.min.js.map").write_text(
        json.dumps(
            {
                "version": 3,
                "sources": ["../node_modules/lib/index.js"],
                "sourcesContent": ["module.exports = function lib() { return 1; };\n"],
                "names": ["lib"],
                "mappings": "AAAA,IAAIA",
            }
        )
    )
    # an indexed map: flattened
    (dist / "index.min.js").write_text(
        "var a=1;\nvar b=2;\n//# sourceMappingURL=index.min.js.map\n"
    )
    section = lambda name, text: {  # noqa: E731
        "version": 3, "sources": [name], "sourcesContent": [text], "names": [], "mappings": "AAAA",
    }  # fmt: skip
    (dist / "index.min.js.map").write_text(
        json.dumps(
            {
                "version": 3,
                "file": "index.min.js",
                "sections": [
                    {"offset": {"line": 0, "column": 0}, "map": section("a.js", "var a = 1;\n")},
                    {"offset": {"line": 1, "column": 0}, "map": section("b.js", "var b = 2;\n")},
                ],
            }
        )
    )
    (dist / "main.jsbundle").write_text(
        "__d(function(){});\n//# sourceMappingURL=main.jsbundle.map\n"
    )
    (dist / "main.jsbundle.map").write_text(
        json.dumps(
            {
                "version": 3,
                "sources": ["main.js"],
                "sourcesContent": ["x"],
                "names": [],
                "mappings": "AAAA",
            }
        )  # fmt: skip
    )
    (dist / "plain.js").write_text("console.log('not minified');\n")
    (dist / "unit.test.js").write_text("test();\n")  # -i '*.test.js'
    (dist / "legacy" / "old.js").write_text("old();\n")  # in the ignore file
    (dist / ".cache" / "hidden.js").write_text("hidden();\n")  # hidden folders: skipped
    (proj / "upload.ignore").write_text("# old code\ndist/legacy/\n")
    return proj, dist


FLAGS = (
    "-r", "shop@1.0", "-d", "build-7", "-u", "~/static/", "--url-suffix", "?v=1",
    "--strip-prefix", "../node_modules", "--strip-common-prefix", "-i", "*.test.js",
    "--note", "nightly",
)  # fmt: skip


def _maps_equal(ours: bytes, theirs: bytes) -> None:
    a, b = json.loads(ours), json.loads(theirs)
    assert a["sources"] == b["sources"]
    assert (a.get("sourcesContent") or []) == (b.get("sourcesContent") or [])
    assert a.get("names", []) == b.get("names", [])
    assert decode_mappings(a["mappings"]) == decode_mappings(b["mappings"])
    assert a.get("debugId", a.get("debug_id")) == b.get("debugId", b.get("debug_id"))


def test_upload_matches_sentry_cli(rt, sentry_cli, recorder, tmp_path):
    proj, dist = _tree(tmp_path)
    assert rt("sourcemaps", "inject", str(dist / "app.min.js")).code == 0
    args = ("sourcemaps", "upload", *FLAGS, "-I", "upload.ignore", "dist")
    _script(recorder)
    ours = rt(*args, "--source-root", ".", cwd=proj)
    assert ours.code == 0, ours
    assemble_ours, manifest_ours, files_ours = _bundle(recorder)
    _script(recorder)
    theirs = sentry_cli(*args, cwd=proj)
    assert theirs.code == 0, theirs
    assemble_theirs, manifest_theirs, files_theirs = _bundle(recorder)

    for key in ("projects", "version", "dist"):
        assert assemble_ours.get(key) == assemble_theirs.get(key), key
    for key in ("org", "release", "dist", "project", "note"):
        assert manifest_ours.get(key) == manifest_theirs.get(key), key
    assert manifest_ours["note"] == "nightly"
    ours_by_url = {e["url"]: (name, e) for name, e in manifest_ours["files"].items()}
    theirs_by_url = {e["url"]: (name, e) for name, e in manifest_theirs["files"].items()}
    assert sorted(ours_by_url) == sorted(theirs_by_url) == sorted(
        f"~/static/{n}?v=1"
        for n in (
            "app.min.js", "app.min.js.map", "vendor.min.js", "vendor.min.js.map",
            "index.min.js", "index.min.js.map", "main.jsbundle", "main.jsbundle.map", "plain.js",
        )
    )  # fmt: skip
    for url, (name, entry) in ours_by_url.items():
        their_name, their_entry = theirs_by_url[url]
        assert entry["type"] == their_entry["type"], url
        assert entry.get("headers", {}) == their_entry.get("headers", {}), url
        if url.endswith(".map?v=1"):
            _maps_equal(files_ours[name], files_theirs[their_name])
        else:
            assert files_ours[name] == files_theirs[their_name], url
    rewritten = json.loads(files_ours[ours_by_url["~/static/app.min.js.map?v=1"][0]])
    assert rewritten["sources"] == ["app.js", "util.js"]
    assert rewritten["sourcesContent"][1].startswith("export function util()")
    vendor = json.loads(files_ours[ours_by_url["~/static/vendor.min.js.map?v=1"][0]])
    assert vendor["sources"] == ["lib/index.js"]
    flat = json.loads(files_ours[ours_by_url["~/static/index.min.js.map?v=1"][0]])
    assert "sections" not in flat and flat["sources"] == ["a.js", "b.js"]


def test_no_rewrite_and_no_sourcemap_reference(rt, sentry_cli, recorder, tmp_path):
    proj, dist = _tree(tmp_path)
    for conflict in (("--strip-common-prefix",), ("--strip-prefix", "x")):
        bad = ("sourcemaps", "upload", "-r", "shop@1.0", "--no-rewrite", *conflict, ".")
        ours, theirs = rt(*bad, cwd=dist), sentry_cli(*bad, cwd=dist)
        assert ours.code == theirs.code == 2, (ours, theirs)
        assert ours.err.splitlines()[-1].startswith(
            f"error: argument {conflict[0]}: not allowed with argument --no-rewrite"
        )
    args = ("sourcemaps", "upload", "-r", "shop@1.0", "--no-rewrite", "--no-sourcemap-reference",
            ".")  # fmt: skip
    _script(recorder)
    assert rt(*args, cwd=dist).code == 0
    _, manifest_ours, files_ours = _bundle(recorder)
    _script(recorder)
    assert sentry_cli(*args, cwd=dist).code == 0
    _, manifest_theirs, files_theirs = _bundle(recorder)
    assert manifest_ours["files"] == manifest_theirs["files"]
    for name, data in files_ours.items():
        if name.endswith(".map"):  # unchanged: the index stays an index, sources unstripped
            assert json.loads(data) == json.loads(files_theirs[name])
            assert data == (dist / name.rsplit("/", 1)[-1]).read_bytes()
    assert not any("sourcemap" in (e.get("headers") or {}) for e in manifest_ours["files"].values())
