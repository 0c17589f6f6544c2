"""The collector's Web API through plain HTTP: tokens, releases, commits, uploads, bad bundles."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import uuid
import zipfile

import pytest


def multipart(parts):
    """parts: [(field, filename or None, bytes)] -> (body, content type)."""
    boundary = "----rt" + uuid.uuid4().hex
    out = io.BytesIO()
    for field, filename, data in parts:
        out.write(f"--{boundary}\r\n".encode())
        disp = f'form-data; name="{field}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out.write(f"Content-Disposition: {disp}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload_chunk(collector, data: bytes, gzipped=False, name=None):
    sha1 = name or hashlib.sha1(data).hexdigest()
    payload = gzip.compress(data) if gzipped else data
    body, ctype = multipart([("file_gzip" if gzipped else "file", sha1, payload)])
    return collector.request(
        "POST",
        "/api/0/organizations/local/chunk-upload/",
        raw=body,
        headers={"Content-Type": ctype},
    )


def make_bundle(entries, manifest=None, header=b"SYSB" + struct.pack("<I", 2)):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if manifest is not None:
            zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in entries.items():
            zf.writestr(name, data)
    return header + buf.getvalue()


def assemble(collector, data: bytes, **extra):
    checksum = hashlib.sha1(data).hexdigest()
    body = {"checksum": checksum, "chunks": [checksum], "projects": ["local"], **extra}
    first = collector.api("POST", "/organizations/local/artifactbundle/assemble/", body)
    assert first["state"] == "not_found" and first["missingChunks"] == [checksum]
    assert upload_chunk(collector, data)[0] == 200
    return collector.api("POST", "/organizations/local/artifactbundle/assemble/", body)


GOOD_MANIFEST = {
    "files": {
        "files/_/_/app.js": {
            "type": "minified_source",
            "url": "~/app.js",
            "headers": {"debug-id": "0E2B6C1A-1111-5222-8333-444455556666"},
        }
    },
    "org": "local",
    "project": "local",
}


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic abc"])
def test_web_api_requires_the_token(collector, auth):
    headers = {"Authorization": auth} if auth else {}
    status, body = collector.request(
        "GET", "/api/0/organizations/local/releases/", headers=headers, token=None
    )
    assert status == 401 and "token" in body["detail"]


def test_release_create_is_idempotent_and_validates_names(collector):
    created = collector.api(
        "POST",
        "/organizations/local/releases/",
        {"version": "api@1", "projects": ["local"]},
        expect=201,
    )
    assert created["version"] == "api@1"
    collector.api(
        "POST",
        "/organizations/local/releases/",
        {"version": "api@1", "projects": ["local"]},
        expect=208,
    )
    for bad in ["", "..", "a/b", " lead", "x" * 201, "tab\there"]:
        status, body = collector.request(
            "POST", "/api/0/organizations/local/releases/", {"version": bad, "projects": ["local"]}
        )
        assert status == 400 and body["detail"].startswith("invalid release version")
    status, body = collector.request(
        "POST", "/api/0/organizations/local/releases/", {"version": "ok@1", "projects": ["nope"]}
    )
    assert (status, body["detail"]) == (400, "invalid project slug 'nope'")
    status, body = collector.request(
        "POST",
        "/api/0/organizations/local/releases/",
        raw=b"\xff\xfe",
        headers={"Content-Type": "application/json"},
    )
    assert status == 400
    assert body["detail"] == "request body is not valid UTF-8 (invalid start byte at byte 0)"
    assert [r["version"] for r in collector.api("GET", "/organizations/local/releases/")] == [
        "api@1"
    ]


def test_refs_commits_and_previous_with_commits(collector):
    collector.api("POST", "/organizations/local/releases/", {"version": "a@1"}, expect=201)
    collector.api(
        "PUT",
        "/organizations/local/releases/a@1/",
        {
            "commits": [
                {
                    "id": "c2",
                    "repository": "acme/api",
                    "message": "second",
                    "author_name": "Bo",
                    "author_email": "bo@example.com",
                    "patch_set": [{"path": "x.py", "type": "M"}],
                },
                {"id": "c1", "repository": "acme/api", "message": "first"},
            ]
        },
    )
    assert collector.api(
        "GET", "/organizations/local/releases/a@2/previous-with-commits/", expect=404
    )
    collector.api("POST", "/organizations/local/releases/", {"version": "a@2"}, expect=201)
    prev = collector.api("GET", "/organizations/local/releases/a@2/previous-with-commits/")
    assert prev["version"] == "a@1" and prev["lastCommit"]["id"] == "c2"
    collector.api(
        "PUT",
        "/organizations/local/releases/a@2/",
        {"refs": [{"repository": "acme/api", "commit": "c3", "previousCommit": "c2"}]},
    )
    assert [
        c["id"] for c in collector.api("GET", "/organizations/local/releases/a@2/commits/")
    ] == ["c3"]
    assert [r["name"] for r in collector.api("GET", "/organizations/local/repos/")] == ["acme/api"]
    status, body = collector.request(
        "PUT",
        "/api/0/organizations/local/releases/a@2/",
        {"commits": [{"id": "c4", "patch_set": [{"path": "y", "type": "Z"}]}]},
    )
    assert status == 400 and "type A, M or D" in body["detail"]
    status, body = collector.request(
        "PUT",
        "/api/0/organizations/local/releases/a@2/",
        {"commits": [{"id": "c4", "author_email": "x" * 80 + "@e.com"}]},
    )
    assert status == 400 and "author_email" in body["detail"]
    # the failed updates left the commits alone
    assert [
        c["id"] for c in collector.api("GET", "/organizations/local/releases/a@2/commits/")
    ] == ["c3"]


def test_chunks_gzip_and_checksum_mismatch(collector):
    assert upload_chunk(collector, b"chunk data", gzipped=True)[0] == 200
    status, body = upload_chunk(collector, b"other data", name="0" * 40)
    assert status == 400 and body["detail"].startswith("chunk checksum mismatch")
    opts = collector.api("GET", "/organizations/local/chunk-upload/")
    assert opts["url"].startswith(collector.url) and opts["hashAlgorithm"] == "sha1"
    assert "artifact_bundles" in opts["accept"] and opts["compression"] == ["gzip"]


def test_good_bundle_is_stored_under_release_dist_and_debug_id(collector):
    bundle = make_bundle({"files/_/_/app.js": "console.log(1)\n"}, GOOD_MANIFEST)
    answer = assemble(collector, bundle, version="web@9", dist="7")
    assert answer == {"state": "ok", "missingChunks": [], "detail": None}
    files = collector.api("GET", "/organizations/local/releases/web@9/files/")
    assert [(f["name"], f["dist"], f["debugId"]) for f in files] == [
        ("~/app.js", "7", "0e2b6c1a-1111-5222-8333-444455556666")
    ]
    status, data = collector.request(
        "GET", f"/api/0/organizations/local/releases/web@9/files/{files[0]['id']}/?download=1"
    )
    assert (status, data) == (200, b"console.log(1)\n")
    found = collector.api(
        "GET",
        "/projects/local/local/artifact-lookup/?debug_id=0E2B6C1A-1111-5222-8333-444455556666",
    )
    assert [(f["name"], f["release"]) for f in found] == [("~/app.js", "web@9")]
    status, data = collector.request("GET", found[0]["url"][len(collector.url) :])
    assert (status, data) == (200, b"console.log(1)\n")
    by_url = collector.api(
        "GET", "/projects/local/local/artifact-lookup/?release=web@9&url=http://example.com/app.js"
    )
    assert [f["name"] for f in by_url] == ["~/app.js"]


def _zip_with_raw_name(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"files": {}}))
        info = zipfile.ZipInfo("placeholder")
        info.filename = name  # ZipFile would not normalize it then
        zf.writestr(info, "evil")
    return b"SYSB" + struct.pack("<I", 2) + buf.getvalue()


@pytest.mark.parametrize(
    "bundle, reason",
    [
        (_zip_with_raw_name("../../etc/evil.js"), "leaves the bundle"),
        (_zip_with_raw_name("/abs/evil.js"), "absolute path"),
        (make_bundle({"files/_/_/a.js": "x"}, None), "no manifest.json"),
        (
            make_bundle({"files/_/_/a.js": "x"}, {"files": {"files/_/_/b.js": {}}}),
            "not in the bundle",
        ),
        (
            make_bundle({"files/_/_/a.js": "x"}, GOOD_MANIFEST, header=b"NOPE\x02\x00\x00\x00"),
            "not an artifact bundle",
        ),
        (b"SYSB" + struct.pack("<I", 2) + b"not a zip", "not a valid ZIP"),
        (
            make_bundle({"files/_/_/app.js": "\0" * (4 * 1024 * 1024)}, GOOD_MANIFEST),
            "compression ratio",
        ),
        (  # 200 entries of 1 MiB zeros, each under the per-entry ratio check: ~200 KB
            make_bundle(
                {f"files/_/_/z{i}.js": "\0" * (1024 * 1024) for i in range(200)}, GOOD_MANIFEST
            ),
            "compression ratio over 200:1",
        ),
    ],
)
def test_bad_bundles_are_rejected_and_nothing_is_stored(collector, bundle, reason):
    answer = assemble(collector, bundle, version="bad@1")
    assert answer["state"] == "error" and reason in answer["detail"]
    status, _ = collector.request("GET", "/api/0/organizations/local/releases/bad@1/files/")
    assert status == 404  # not even the release was created
    assert (
        collector.api(
            "POST",
            "/organizations/local/artifactbundle/assemble/",
            {
                "checksum": hashlib.sha1(bundle).hexdigest(),
                "chunks": [hashlib.sha1(bundle).hexdigest()],
                "projects": ["local"],
            },
        )["state"]
        == "error"
    )
    # the server keeps serving good bundles
    good = make_bundle({"files/_/_/app.js": "ok"}, GOOD_MANIFEST)
    assert assemble(collector, good, version="good@1")["state"] == "ok"


def test_legacy_release_files(collector):
    collector.api("POST", "/organizations/local/releases/", {"version": "old@1"}, expect=201)
    body, ctype = multipart(
        [
            ("file", "app.js", b"var a = 1;"),
            ("name", None, b"~/app.js"),
            ("header", None, b"Sourcemap:app.js.map"),
        ]
    )
    status, created = collector.request(
        "POST",
        "/api/0/organizations/local/releases/old@1/files/",
        raw=body,
        headers={"Content-Type": ctype},
    )
    assert status == 201 and created["name"] == "~/app.js"
    assert created["headers"] == {"sourcemap": "app.js.map"}
    status, again = collector.request(
        "POST",
        "/api/0/organizations/local/releases/old@1/files/",
        raw=body,
        headers={"Content-Type": ctype},
    )
    assert status == 409
    files = collector.api("GET", "/organizations/local/releases/old@1/files/")
    assert [f["sha1"] for f in files] == [hashlib.sha1(b"var a = 1;").hexdigest()]


def test_unknown_endpoints_and_methods(collector):
    status, body = collector.request("GET", "/api/0/nothing/here/")
    assert status == 404 and body["detail"] == "no such endpoint: GET /api/0/nothing/here/"
    status, body = collector.request("PATCH", "/api/0/organizations/local/releases/")
    assert status == 405
