"""``sourcemaps upload`` reads a map's sources only from regular files inside the uploaded
folders (or a ``--source-root``): whatever ``sources`` names (absolute paths, ``file://``
URLs, ``../`` chains, links out of the folder, ``/proc/self/environ``, FIFOs, devices), no
byte from outside ever reaches the bundle the server receives, and the refusals are summed
up in one warning line.

The CLI runs as a real process against the recording server (so ``/proc/self/environ`` is
its own, with the marker planted in its environment); the bundle is put back together from
the chunks the server received.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Tuple
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_sourcemaps_parity import _bundle, _script

pytestmark = pytest.mark.timeout(120)

SECRET = "SECRET-OUTSIDE-7f3a9c"  # in files outside the upload folder
ENV_SECRET = "ENV-SECRET-41d2be"  # in the CLI's environment (/proc/self/environ)
INSIDE = "export const ok = 'INSIDE-OK';\n"
WARNING = "map source(s) left without content"


def _tree(base: Path) -> Tuple[Path, Path]:
    """(project, dist): dist is uploaded; secrets sit beside it, outside, behind links."""
    proj = base / "proj"
    dist = proj / "dist"
    (dist / "inside").mkdir(parents=True)
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_text(SECRET + "\n")
    (proj / "secret.txt").write_text(SECRET + "\n")
    (dist / "inside" / "ok.js").write_text(INSIDE)
    (dist / "link-out").symlink_to(base / "outside", target_is_directory=True)
    (dist / "link-file").symlink_to(base / "outside" / "secret.txt")
    (dist / "zero").symlink_to("/dev/zero")
    (dist / "null").symlink_to("/dev/null")
    os.mkfifo(dist / "fifo")
    (dist / "app.min.js").write_text("var ok=1;\n//# sourceMappingURL=app.min.js.map\n")
    return proj, dist


def _hostile(base: Path) -> List[str]:
    """Every kind of source that must not be read, for the tree under ``base``."""
    outside = str(base / "outside" / "secret.txt")
    depth = len(Path(base / "proj" / "dist").parts)
    return [
        outside,
        "file://" + quote(outside),
        str(base / "proj" / "secret.txt"),
        "../secret.txt",
        "../../outside/secret.txt",
        "inside/../../secret.txt",
        "./inside/../../../outside/secret.txt",
        "link-out/secret.txt",
        "link-file",
        "/proc/self/environ",
        "file:///proc/self/environ",
        "../" * depth + "proc/self/environ",
        "/proc/self/../self/environ",
        "fifo",
        "zero",
        "null",
        "/dev/zero",
        "/etc/passwd",
    ]


def _upload(rt, recorder, proj: Path, dist: Path, sources: List[str]):
    (dist / "app.min.js.map").write_text(
        json.dumps({"version": 3, "sources": sources, "names": [], "mappings": "AAAA"})
    )
    _script(recorder)
    res = rt("sourcemaps", "upload", "-r", "web@1", "--no-cache", "dist", cwd=proj,
             RT_PLANTED=ENV_SECRET)  # fmt: skip
    assert res.code == 0, res
    _, manifest, files = _bundle(recorder)
    name = next(n for n, e in manifest["files"].items() if e["url"] == "~/app.min.js.map")
    return res, b"".join(files.values()), json.loads(files[name])


def _check(res, data: bytes, smap, sources: List[str]) -> None:
    assert SECRET.encode() not in data
    assert ENV_SECRET.encode() not in data
    contents = smap.get("sourcesContent") or [None] * len(sources)
    for source, content in zip(sources, contents):
        if source == "inside/ok.js":
            assert content == INSIDE  # read: inside the folder uploaded
        else:
            assert content is None, source
    warnings = [line for line in res.err.splitlines() if WARNING in line]
    refused = sum(1 for s in sources if s != "inside/ok.js")
    assert len(warnings) == (1 if refused else 0), res.err
    if refused:
        assert warnings[0].startswith(f"warning: {refused} {WARNING}")


def test_every_hostile_source_is_refused_in_one_warning(rt, recorder, tmp_path):
    proj, dist = _tree(tmp_path)
    sources = _hostile(tmp_path) + ["inside/ok.js"]
    res, data, smap = _upload(rt, recorder, proj, dist, sources)
    _check(res, data, smap, sources)
    assert "--source-root" in res.err


def test_source_root_widens_what_may_be_read(rt, recorder, tmp_path):
    """Naming the project as --source-root lets its sources in, still nothing outside it."""
    proj, dist = _tree(tmp_path)
    (dist / "app.min.js.map").write_text(
        json.dumps(
            {
                "version": 3,
                "sources": ["../secret.txt", "../../outside/secret.txt"],
                "names": [],
                "mappings": "AAAA",
            }
        )  # fmt: skip
    )
    _script(recorder)
    res = rt("sourcemaps", "upload", "-r", "web@1", "--no-cache", "--source-root", ".", "dist",
             cwd=proj)  # fmt: skip
    assert res.code == 0, res
    _, manifest, files = _bundle(recorder)
    smap = json.loads(files["files/_/_/app.min.js.map"])
    assert smap["sourcesContent"] == [SECRET + "\n", None]  # proj/secret.txt is now inside
    assert sum(WARNING in line for line in res.err.splitlines()) == 1
    bad = rt("sourcemaps", "upload", "-r", "web@1", "--source-root", "nowhere", "dist", cwd=proj)
    assert bad.code == 2 and bad.err.strip().endswith("--source-root nowhere: no such folder")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_byte_from_outside_reaches_the_bundle(rt, recorder, tmp_path_factory, data):
    base = tmp_path_factory.mktemp("tree")
    proj, dist = _tree(base)
    pool = _hostile(base)
    suffix = st.sampled_from(["", "?v=1"])
    hostile = st.builds(lambda s, q: s + q if "://" not in s else s, st.sampled_from(pool), suffix)
    sources = data.draw(st.lists(hostile, max_size=6)) + ["inside/ok.js"]
    sources = data.draw(st.permutations(sources))
    res, blob, smap = _upload(rt, recorder, proj, dist, list(sources))
    _check(res, blob, smap, list(sources))
