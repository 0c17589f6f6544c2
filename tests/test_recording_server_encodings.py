"""The recording server records bodies decompressed, whatever encoding the client used."""

from __future__ import annotations

import gzip
import urllib.request

import brotli
import pytest


@pytest.mark.parametrize(
    "encoding, compress",
    [("br", brotli.compress), ("gzip", gzip.compress), ("identity", lambda b: b)],
)
def test_bodies_are_recorded_decompressed(recorder, encoding, compress):
    body = b'{"event_id":"' + b"a" * 32 + b'"}\n{"type":"event"}\n{}'
    req = urllib.request.Request(
        f"{recorder.url}/api/42/envelope/",
        data=compress(body),
        method="POST",
        headers={"Content-Encoding": encoding},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    (recorded,) = recorder.requests("/envelope/")
    assert recorded.body == body
    assert recorded["headers"]["content-encoding"] == encoding
