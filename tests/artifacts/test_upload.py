"""sourcemaps upload / debug-files upload against the recording server (a real HTTP process)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import re
import shutil
import zipfile

import pytest

from releasetag.build.artifacts.bundle import LazyBundle, build_bundle
from releasetag.build.artifacts.bundle_format import list_files, read_manifest
from releasetag.build.artifacts.chunks import hash_file
from releasetag.build.artifacts.collect import collect
from releasetag.build.artifacts.inject import inject
from releasetag.cli.main import main

from .conftest import FIXTURES

ORG, PROJECT = "acme", "web"
CHUNK = 4096


@pytest.fixture
def api_env(recorder, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("RELEASETAG_URL", recorder.url)
    monkeypatch.setenv("RELEASETAG_AUTH_TOKEN", "secret-token-value")
    monkeypatch.setenv("RELEASETAG_ORG", ORG)
    monkeypatch.setenv("RELEASETAG_PROJECT", PROJECT)
    monkeypatch.setenv("RELEASETAG_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("RELEASETAG_HTTP_RETRIES", "0")
    monkeypatch.setenv("RELEASETAG_CACHE_DIR", str(tmp_path_factory.mktemp("hash-cache")))
    monkeypatch.setattr("releasetag.build.artifacts.bundlecache.FRESH_NS", 0)  # test files are new
    return recorder


def chunk_options(recorder, **over):
    opts = {
        "url": f"{recorder.url}/api/0/organizations/{ORG}/chunk-upload/",
        "chunkSize": CHUNK,
        "chunksPerRequest": 3,
        "maxRequestSize": 3 * CHUNK,
        "maxFileSize": 50 * 1024 * 1024,
        "concurrency": 2,
        "hashAlgorithm": "sha1",
        "compression": ["gzip"],
        "accept": ["artifact_bundles", "debug_files"],
    }
    opts.update(over)
    return {"path": "/chunk-upload/", "method": "GET", "body": opts}


def parse_multipart(req):
    """[(field name, filename, decompressed bytes)] of a recorded multipart request."""
    ctype = req["headers"]["content-type"]
    boundary = re.search(r"boundary=(\S+)", ctype).group(1).encode()
    parts = []
    for raw in req.body.split(b"--" + boundary)[1:]:
        if raw.startswith(b"--"):
            break
        head, _, data = raw.partition(b"\r\n\r\n")
        data = data[:-2]  # the CRLF before the next boundary
        name = re.search(rb'name="([^"]+)"', head).group(1).decode()
        filename = re.search(rb'filename="([^"]+)"', head).group(1).decode()
        parts.append((name, filename, gzip.decompress(data) if name == "file_gzip" else data))
    return parts


def make_site(tmp_path, n=6, size=6000):
    site = tmp_path / "dist"
    (site / "static").mkdir(parents=True)
    for i in range(n):
        rng = random.Random(i)
        body = "".join(f"var a{k}='{rng.getrandbits(64):x}';" for k in range(size // 20))
        (site / "static" / f"app{i}.js").write_text(
            body + f"\n//# sourceMappingURL=app{i}.js.map\n"
        )
        (site / "static" / f"app{i}.js.map").write_text(
            json.dumps(
                {
                    "version": 3,
                    "sources": [f"src/app{i}.ts"],
                    "sourcesContent": ["x"],
                    "names": [],
                    "mappings": "AAAA;AACA",
                }
            )
        )
    inject([str(site)])
    return site


def expected_bundle(site, release=None, dist=None, **kw):
    files, _ = collect([str(site)], **kw)
    return build_bundle(
        files, org=ORG, projects=[PROJECT], release=release, dist=dist, chunk_size=CHUNK
    )


def test_upload_sends_only_missing_chunks_in_limited_batches(api_env, tmp_path, capsys):
    rec = api_env
    site = make_site(tmp_path)
    with expected_bundle(site, release="web@1.0") as bundle:
        chunked = hash_file(bundle.path, CHUNK)
        assert bundle.chunked.chunk_ids == chunked.chunk_ids  # hashed while written
        assert bundle.chunked.checksum == chunked.checksum
        files, _ = collect([str(site)])
        with LazyBundle(
            files, org=ORG, projects=[PROJECT], release="web@1.0", chunk_size=CHUNK
        ) as lazy:  # hashed without writing: same answer
            assert lazy.chunked.chunk_ids == chunked.chunk_ids
        manifest = bundle.manifest
    assert len(chunked.chunks) > 6
    missing = chunked.chunk_ids[1::2]  # the server already has every other chunk
    rec.respond(
        chunk_options(rec),
        {
            "path": "/artifactbundle/assemble/",
            "times": 1,
            "body": {"state": "not_found", "missingChunks": missing},
        },
        {
            "path": "/artifactbundle/assemble/",
            "times": 1,
            "body": {"state": "assembling", "missingChunks": []},
        },
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    rc = main(["sourcemaps", "upload", str(site), "--release", "web@1.0", "--wait", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["bundle"]["state"] == "ok" and out["bundle"]["sent"] == len(missing)
    uploads = [r for r in rec.requests("/chunk-upload/") if r["method"] == "POST"]
    sent = [p for r in uploads for p in parse_multipart(r)]
    assert sorted(f for _, f, _ in sent) == sorted(missing)
    assert all(hashlib.sha1(data).hexdigest() == name for _, name, data in sent)
    assert {field for field, _, _ in sent} == {"file_gzip"}
    for r in uploads:  # chunksPerRequest and maxRequestSize respected
        parts = parse_multipart(r)
        assert len(parts) <= 3 and sum(len(d) for _, _, d in parts) <= 3 * CHUNK
        assert r["headers"]["authorization"] == "Bearer secret-token-value"
    assembles = rec.requests("/artifactbundle/assemble/")
    assert len(assembles) >= 3  # ask, ask again after upload, poll until ok
    first = assembles[0].json()
    assert first == {
        "checksum": chunked.checksum,
        "chunks": chunked.chunk_ids,
        "projects": [PROJECT],
        "version": "web@1.0",
    }
    assert assembles[0]["path"] == f"/api/0/organizations/{ORG}/artifactbundle/assemble/"
    # the uploaded bundle is the one built above: same bytes, same manifest
    assert all(a.json()["checksum"] == chunked.checksum for a in assembles)
    assert len(manifest["files"]) == 12


def test_reupload_of_unchanged_files_sends_no_chunk(api_env, tmp_path, capsys):
    rec = api_env
    site = make_site(tmp_path, n=2)
    rec.respond(
        chunk_options(rec),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    assert main(["sourcemaps", "upload", str(site), "--release", "web@1.0"]) == 0
    assert "0 sent" in capsys.readouterr().out
    assert not [r for r in rec.requests("/chunk-upload/") if r["method"] == "POST"]
    assert len(rec.requests("/artifactbundle/assemble/")) == 1


def test_bundle_is_deterministic_and_has_the_manifest(tmp_path):
    site = make_site(tmp_path, n=3)
    (site / "static" / "plain.js").write_text("console.log('not minified');\n")
    with (
        expected_bundle(
            site, release="r1", dist="d", url_prefix="app:///", strip_path_prefix="static"
        ) as one,
        expected_bundle(
            site, release="r1", dist="d", url_prefix="app:///", strip_path_prefix="static"
        ) as two,
    ):
        assert open(one.path, "rb").read() == open(two.path, "rb").read()
        data = open(one.path, "rb").read()
        assert data[:8] == b"SYSB\x02\x00\x00\x00"
        manifest = read_manifest(one.path)
        names = list_files(one.path)
    assert names[-1] == "manifest.json"
    js = manifest["files"]["files/app/_/app0.js"]
    assert js["url"] == "app:///app0.js" and js["type"] == "minified_source"
    assert js["headers"]["sourcemap"] == "app0.js.map"
    smap = manifest["files"]["files/app/_/app0.js.map"]
    assert smap["type"] == "source_map"
    assert smap["headers"]["debug-id"] == js["headers"]["debug-id"]
    # every JS file is a minified source, as sentry-cli uploads them
    assert manifest["files"]["files/app/_/plain.js"]["type"] == "minified_source"
    assert (manifest["release"], manifest["dist"], manifest["org"]) == ("r1", "d", ORG)
    with zipfile.ZipFile(__import__("io").BytesIO(data[8:])) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_bundle_opens_in_symbolic_as_a_source_bundle(tmp_path):
    from symbolic.debuginfo import Archive

    site = make_site(tmp_path, n=2)
    with expected_bundle(site, release="r1") as bundle:
        objs = list(Archive.open(bundle.path).iter_objects())
    assert [o.file_format for o in objs] == ["sourcebundle"]
    assert str(objs[0].debug_id) == bundle.manifest["debug_id"]


def test_legacy_release_files_when_server_has_no_chunk_upload(api_env, tmp_path, capsys):
    rec = api_env
    site = make_site(tmp_path, n=2)
    rec.respond(
        {"path": "/chunk-upload/", "status": 404, "body": {"detail": "Not found"}},
        {"path": "/files/", "times": 1, "status": 409, "body": {"detail": "exists"}},
    )
    rc = main(
        [
            "sourcemaps",
            "upload",
            str(site),
            "-r",
            "web@2",
            "--dist",
            "7",
            "--url-prefix",
            "~/assets",
        ]
    )
    assert rc == 0, capsys.readouterr()
    posts = rec.requests(f"/organizations/{ORG}/releases/web%402/files/")
    assert len(posts) == 4
    body = b"".join(p.body for p in posts)
    assert b"~/assets/static/app0.js.map" in body and b'name="dist"' in body
    assert b"Sourcemap:app1.js.map" in body


def test_bad_inputs_are_reported_and_the_rest_uploads(api_env, tmp_path, capsys):
    rec = api_env
    site = make_site(tmp_path, n=2)
    (site / "static" / "broken.js.map").write_text("{nope")
    (site / "static" / "orphan.js").write_text("x" * 2000 + "\n//# sourceMappingURL=gone.map\n")
    (site / "static" / "nosrc.js.map").write_text(
        json.dumps({"version": 3, "sources": ["../src/none.ts"], "names": [], "mappings": "AAAA"})
    )
    rec.respond(
        chunk_options(rec),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    rc = main(["sourcemaps", "upload", str(site), "-r", "web@1", "--validate"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "broken.js.map" in err and "not valid JSON" in err
    assert "orphan.js" in err and "gone.map" in err
    assert "nosrc.js.map" in err and "'../src/none.ts' is missing" in err
    assert "Traceback" not in err
    assert len(rec.requests("/artifactbundle/assemble/")) == 1  # the rest still went up
    assert main(["sourcemaps", "upload", str(site), "-r", "web@1", "--allow-failure"]) == 0
    assert "ignored: --allow-failure" in capsys.readouterr().err


def test_bundle_over_max_file_size_is_refused(api_env, tmp_path, capsys):
    rec = api_env
    site = make_site(tmp_path, n=2)
    rec.respond(chunk_options(rec, maxFileSize=1000))
    assert main(["sourcemaps", "upload", str(site), "-r", "web@1"]) == 1
    assert "maximum file size" in capsys.readouterr().err
    assert not rec.requests("/assemble/")


def test_release_is_detected_when_not_given(api_env, tmp_path, capsys, monkeypatch):
    rec = api_env
    monkeypatch.setenv("SENTRY_RELEASE", "detected@3")
    site = make_site(tmp_path, n=1)
    rec.respond(
        chunk_options(rec),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    assert main(["sourcemaps", "upload", str(site)]) == 0
    assert rec.requests("/artifactbundle/assemble/")[0].json()["version"] == "detected@3"


def test_debug_files_upload_scans_skips_and_assembles(api_env, tmp_path, capsys, gcc_binaries):
    rec = api_env
    folder = tmp_path / "syms"
    folder.mkdir()
    shutil.copy(os.path.join(FIXTURES, "win.pdb"), folder / "win.pdb")
    shutil.copy(gcc_binaries["debug_exe"], folder / "debug_exe")
    (folder / "readme.txt").write_text("hello")
    (folder / "truncated.so").write_bytes(open(gcc_binaries["libshared.so"], "rb").read()[:300])
    with zipfile.ZipFile(folder / "more.zip", "w") as zf:
        zf.write(os.path.join(FIXTURES, "sample.sym"), "x/sample.sym")
    pdb = hash_file(str(folder / "win.pdb"), CHUNK)
    exe = hash_file(str(folder / "debug_exe"), CHUNK)
    sym = hash_file(os.path.join(FIXTURES, "sample.sym"), CHUNK)
    ok = {"state": "ok", "missingChunks": []}
    rec.respond(
        chunk_options(rec),
        {
            "path": "/difs/assemble/",
            "times": 1,
            "body": {
                pdb.checksum: {"state": "not_found", "missingChunks": pdb.chunk_ids[:2]},
                exe.checksum: ok,
                sym.checksum: ok,
            },
        },
        {
            "path": "/difs/assemble/",
            "times": 1,
            "body": {
                pdb.checksum: {"state": "assembling", "missingChunks": []},
                exe.checksum: ok,
                sym.checksum: ok,
            },
        },
        {"path": "/difs/assemble/", "body": {pdb.checksum: ok, exe.checksum: ok, sym.checksum: ok}},
    )
    rc = main(["debug-files", "upload", str(folder), "--wait", "--json"])
    captured = capsys.readouterr()
    assert rc == 1  # the truncated library could not be uploaded
    assert "truncated.so" in captured.err and "Traceback" not in captured.err
    out = json.loads(captured.out)
    assert {u["name"] for u in out["uploaded"]} == {"win.pdb", "debug_exe", "sample.sym"}
    assert {u["state"] for u in out["uploaded"]} == {"ok"}
    assert len(rec.requests("/difs/assemble/")) == 3  # ask, ask after upload, poll
    assert rec.requests("/difs/assemble/")[2].json().keys() == {pdb.checksum}
    first = rec.requests("/difs/assemble/")[0]
    assert first["path"] == f"/api/0/projects/{ORG}/{PROJECT}/files/difs/assemble/"
    body = first.json()
    from releasetag.build.artifacts.debugfiles import inspect

    assert (
        body[pdb.checksum]["debug_id"]
        == inspect(os.path.join(FIXTURES, "win.pdb")).objects[0].debug_id
    )
    assert body[sym.checksum]["name"] == "sample.sym"
    assert body[pdb.checksum]["chunks"] == pdb.chunk_ids
    sent = [
        p
        for r in rec.requests("/chunk-upload/")
        if r["method"] == "POST"
        for p in parse_multipart(r)
    ]
    assert sorted(f for _, f, _ in sent) == sorted(pdb.chunk_ids[:2])


def test_debug_files_check_cli(tmp_path, capsys):
    empty = tmp_path / "empty.so"
    empty.write_bytes(b"")
    rc = main(["debug-files", "check", os.path.join(FIXTURES, "win.dll"), str(empty)])
    captured = capsys.readouterr()
    assert rc == 1
    assert "debug id: " in captured.out and "pe library" in captured.out
    assert "error: " in captured.err and "file is empty" in captured.err
    assert main(["debug-files", "check", "--json", os.path.join(FIXTURES, "mac_fat.dylib")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [o["arch"] for o in data["objects"]] == ["x86_64", "arm64"]


def test_map_debug_id_is_found_wherever_the_key_is(tmp_path):
    ident = "0123abcd-0000-4000-8000-00000000beef"
    filler = "A" * 300_000  # large: only the ends are read first
    (tmp_path / "first.js.map").write_text(
        '{"debugId":"%s","version":3,"sources":[],"names":[],"mappings":"%s"}' % (ident, filler)
    )
    (tmp_path / "middle.js.map").write_text(
        '{"version":3,"mappings":"%s","debug_id":"%s","x":"%s"}' % (filler, ident, filler)
    )
    (tmp_path / "cut.js.map").write_text('{"version":3,"mappings":"%s' % filler)
    files, problems = collect([str(tmp_path)])
    assert {os.path.basename(f.path): f.debug_id for f in files} == {
        "first.js.map": ident,
        "middle.js.map": ident,
    }
    assert [os.path.basename(p.path) for p in problems] == ["cut.js.map"]
    assert problems[0].fatal and "not valid JSON" in problems[0].message


def test_debug_file_over_max_file_size_is_reported_and_the_rest_uploads(api_env, tmp_path, capsys):
    rec = api_env
    big, small = os.path.join(FIXTURES, "win.pdb"), os.path.join(FIXTURES, "sample.sym")
    sym = hash_file(small, CHUNK)
    rec.respond(
        chunk_options(rec, maxFileSize=10_000),
        {
            "path": "/difs/assemble/",
            "times": 1,
            "body": {sym.checksum: {"state": "not_found", "missingChunks": sym.chunk_ids}},
        },
        {"path": "/difs/assemble/", "body": {sym.checksum: {"state": "ok"}}},
    )
    rc = main(["debug-files", "upload", big, small])
    captured = capsys.readouterr()
    assert rc == 1
    assert "win.pdb" in captured.err and "maximum file size" in captured.err
    assert "sample.sym: ok (sent)" in captured.out
    bodies = [r.json() for r in rec.requests("/difs/assemble/")]
    assert all(set(b) == {sym.checksum} for b in bodies)  # the big file was never offered


def test_unchanged_reupload_uses_the_hash_cache_and_a_changed_file_does_not(
    api_env, tmp_path, capsys
):
    rec = api_env
    site = make_site(tmp_path, n=2)
    rec.respond(
        chunk_options(rec),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    args = ["sourcemaps", "upload", str(site), "-r", "web@1", "--json"]
    runs = []
    for _ in range(2):
        assert main(args) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert [r["hashes_from_cache"] for r in runs] == [False, True]
    checksums = [a.json()["checksum"] for a in rec.requests("/artifactbundle/assemble/")]
    assert checksums[0] == checksums[1]
    # same size, same mtime, different bytes: the ctime gives it away
    js = site / "static" / "app0.js"
    st = os.stat(js)
    data = bytearray(js.read_bytes())
    data[0:3] = b"let" if data[0:3] != b"let" else b"var"
    js.write_bytes(bytes(data))
    os.utime(js, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert main(args) == 0
    third = json.loads(capsys.readouterr().out)
    assert third["hashes_from_cache"] is False
    assert rec.requests("/artifactbundle/assemble/")[-1].json()["checksum"] != checksums[0]
    assert main(args + ["--no-cache"]) == 0
    assert json.loads(capsys.readouterr().out)["hashes_from_cache"] is False


def test_stale_cached_hashes_are_corrected_before_sending(api_env, tmp_path, capsys):
    from releasetag.build.artifacts.bundlecache import CachedBundle
    from releasetag.build.artifacts.chunks import Chunk, ChunkedFile, ChunkOptions
    from releasetag.build.artifacts.upload import upload_bundle
    from releasetag.build.config import load_config
    from releasetag.build.webapi.client import ApiClient

    rec = api_env
    site = make_site(tmp_path, n=2)
    files, _ = collect([str(site)])
    wrong = ChunkedFile("", 10, "0" * 40, [Chunk("1" * 40, "", 0, 10)])
    with expected_bundle(site) as real:
        right = real.chunked
    rec.respond(
        {
            "path": "/artifactbundle/assemble/",
            "times": 1,
            "body": {"state": "not_found", "missingChunks": ["1" * 40]},
        },
        {
            "path": "/artifactbundle/assemble/",
            "times": 1,
            "body": {"state": "not_found", "missingChunks": right.chunk_ids[:1]},
        },
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok"}},
    )
    bundle = CachedBundle(files, wrong, org=ORG, projects=[PROJECT], chunk_size=CHUNK)
    options = ChunkOptions.from_json(chunk_options(rec)["body"])
    with ApiClient(load_config()) as client:
        result = upload_bundle(client, options, ORG, [PROJECT], bundle)
    bundle.close()
    assert result.checksum == right.checksum and result.state == "ok"
    sent = [
        p
        for r in rec.requests("/chunk-upload/")
        if r["method"] == "POST"
        for p in parse_multipart(r)
    ]
    assert [f for _, f, _ in sent] == right.chunk_ids[:1]


def test_server_still_missing_chunks_after_upload_is_an_error(api_env, tmp_path, capsys):
    rec = api_env
    site = make_site(tmp_path, n=1)
    with expected_bundle(site, release="web@1") as bundle:
        ids = bundle.chunked.chunk_ids
    rec.respond(
        chunk_options(rec),
        {"path": "/artifactbundle/assemble/", "body": {"state": "not_found", "missingChunks": ids}},
    )
    assert main(["sourcemaps", "upload", str(site), "-r", "web@1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the server still lacks chunks after the upload")


def test_complete_maps_are_remembered_and_a_changed_map_is_rewritten(
    api_env, tmp_path, capsys, monkeypatch
):
    """The default rewrite reads every map once; maps that need none are remembered like the
    hash cache's files, and a map changed to lack its sources' content is rewritten."""
    monkeypatch.setattr("releasetag.build.artifacts.rewrite._Verdicts.FRESH_NS", 0)
    rec = api_env
    site = make_site(tmp_path, n=2)
    (site / "static" / "src").mkdir()
    (site / "static" / "src" / "app1.ts").write_text("export const one = 1;\n")
    rec.respond(
        chunk_options(rec),
        {"path": "/artifactbundle/assemble/", "body": {"state": "ok", "missingChunks": []}},
    )
    args = ["sourcemaps", "upload", str(site), "-r", "web@1", "--json"]
    assert main(args) == 0
    capsys.readouterr()
    verdicts = os.path.join(os.environ["RELEASETAG_CACHE_DIR"], "complete-maps.json")
    with open(verdicts) as fh:
        remembered = json.load(fh)
    assert sorted(k.rsplit("\0", 4)[0].split(":", 1)[1] for k in remembered) == sorted(
        str(site / "static" / f"app{i}.js.map") for i in range(2)
    )
    # app1's map loses its sourcesContent: it is read again and the source inlined
    map1 = site / "static" / "app1.js.map"
    smap = json.loads(map1.read_text())
    del smap["sourcesContent"]
    map1.write_text(json.dumps(smap))
    assert main(args) == 0  # its identity changed: read again, though the cache is on
    out = json.loads(capsys.readouterr().out)
    assert out["hashes_from_cache"] is False
    first, second = [a.json()["checksum"] for a in rec.requests("/artifactbundle/assemble/")]
    assert first != second
    files, _ = collect([str(site)])
    from releasetag.build.artifacts.rewrite import RewriteOptions, rewrite_files

    rewrite_files(files, RewriteOptions(), str(tmp_path))
    rewritten = next(f for f in files if f.url.endswith("app1.js.map"))
    assert json.loads(open(rewritten.path).read())["sourcesContent"] == ["export const one = 1;\n"]
