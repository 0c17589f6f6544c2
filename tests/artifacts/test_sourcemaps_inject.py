"""sourcemaps inject: same debug IDs as sentry-cli, positions preserved, runs in node."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess

import pytest

from releasetag.build.artifacts.inject import inject, inject_file
from releasetag.build.artifacts.sourcemaps import derive_debug_id

from . import jsgen
from .conftest import sentry_cli

PREFIXES = {
    "plain": "",
    "hashbang": "#!/usr/bin/env node\n",
    "license_midline": "/*! licence \u00a9 \U0001f600 */",
    "comments_and_directive": '// built\n/* more */\n"use strict";\n',
    "directive_midline": "'use strict';",
    "directives_no_semicolon": "#!/usr/bin/env node\n\"use strict\"\n'use asm'\n",
    "directive_then_comment_midline": '"use strict"; /* x */ ',
}
ID_LINE = re.compile(r"^//# debugId=(\S+)$", re.M)


def _bundle(tmp_path, name, prefix, index_at=0, seed=1, ref=True):
    rng = random.Random(seed)
    code, names = jsgen.make_code(rng)
    text = prefix + code
    origs = jsgen.original_positions(rng, names)
    smap = jsgen.build_map(text, names, origs, index_at=index_at)
    js = tmp_path / f"{name}.js"
    if ref:
        text += f"//# sourceMappingURL={name}.js.map\n"
    js.write_text(text, encoding="utf-8")
    (tmp_path / f"{name}.js.map").write_bytes(smap)
    return js, names, origs


@pytest.mark.parametrize("index_at", [0, 10], ids=["regular", "index"])
@pytest.mark.parametrize("prefix", list(PREFIXES), ids=list(PREFIXES))
def test_every_token_resolves_to_the_same_original_position(tmp_path, prefix, index_at):
    js, names, origs = _bundle(tmp_path, "bundle", PREFIXES[prefix], index_at=index_at)
    mp = tmp_path / "bundle.js.map"
    before = jsgen.resolve_all(mp.read_bytes(), js.read_text("utf-8"), names)
    assert all(v and v[3] for v in before.values())  # the generated map itself is exact
    result = inject_file(str(js))
    assert result.action == "injected", result.message
    text = js.read_text("utf-8")
    after = jsgen.resolve_all(mp.read_bytes(), text, names)
    assert after == before
    assert text.startswith(PREFIXES[prefix].split("\n")[0].rstrip())
    assert json.loads(mp.read_bytes())["debugId"] == result.debug_id
    assert ID_LINE.findall(text) == [result.debug_id]


def test_snippet_goes_after_hashbang_comments_and_directives(tmp_path):
    js, _, _ = _bundle(tmp_path, "b", PREFIXES["comments_and_directive"])
    inject_file(str(js))
    lines = js.read_text().splitlines()
    assert lines[:3] == ["// built", "/* more */", '"use strict";']
    assert "_sentryDebugIds" in lines[3]
    assert lines[4].startswith("var v0=")


def _ids(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith((".js", ".mjs", ".cjs")):
            found = ID_LINE.findall((folder / name).read_text("utf-8"))
            out[name] = found[-1] if found else None
    return out


@pytest.mark.tools("sentry-cli")
def test_debug_ids_equal_sentry_cli(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _bundle(src, "external", PREFIXES["hashbang"], seed=2)
    _bundle(src, "sibling", "", seed=3, ref=False)  # map found as <file>.map
    _bundle(src, "index", "", seed=4, index_at=9)
    _bundle(src, "strict", PREFIXES["directive_midline"], seed=5)
    js, _, _ = _bundle(src, "inline", "", seed=6)
    smap = (src / "inline.js.map").read_bytes()
    os.unlink(src / "inline.js.map")
    import base64

    text = js.read_text().replace(
        "//# sourceMappingURL=inline.js.map",
        "//# sourceMappingURL=data:application/json;base64," + base64.b64encode(smap).decode(),
    )
    js.write_text(text)
    (src / "nomap.js").write_text("var nothing=1;\n")
    _, _, _ = _bundle(src, "keepsid", "", seed=7)
    m = json.loads((src / "keepsid.js.map").read_text())
    m["debugId"] = "11111111-2222-3333-4444-555555555555"
    (src / "keepsid.js.map").write_text(json.dumps(m))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    shutil.copytree(src, ours)
    shutil.copytree(src, theirs)
    results = inject([str(ours)])
    assert all(r.action == "injected" for r in results), [r.message for r in results]
    subprocess.run(
        [sentry_cli(), "sourcemaps", "inject", str(theirs)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    mine, ref = _ids(ours), _ids(theirs)
    assert mine == ref
    assert mine["keepsid.js"] == "11111111-2222-3333-4444-555555555555"
    assert mine["nomap.js"] == derive_debug_id(b"var nothing=1;\n", None)
    assert None not in mine.values()


def test_inject_twice_changes_nothing_and_dry_run_writes_nothing(tmp_path):
    js, _, _ = _bundle(tmp_path, "b", PREFIXES["hashbang"])
    (tmp_path / "nomap.js").write_text("console.log(1)\n")
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    dry = inject([str(tmp_path)], dry_run=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == snapshot
    first = inject([str(tmp_path)])
    assert [r.debug_id for r in dry] == [r.debug_id for r in first]
    after_first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after_first != snapshot
    second = inject([str(tmp_path)])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == after_first
    assert [r.action for r in second] == ["already injected"] * 2
    assert [r.debug_id for r in second] == [r.debug_id for r in first]


def test_bad_maps_give_a_message_and_the_rest_still_injects(tmp_path):
    (tmp_path / "bad.js").write_text("var a=1;\n//# sourceMappingURL=bad.js.map\n")
    (tmp_path / "bad.js.map").write_text("{not json")
    (tmp_path / "notmap.js").write_text("var a=1;\n//# sourceMappingURL=notmap.js.map\n")
    (tmp_path / "notmap.js.map").write_text("[1, 2]")
    (tmp_path / "missing.js").write_text("var a=1;\n//# sourceMappingURL=gone.js.map\n")
    (tmp_path / "binary.js").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "good.js").write_text("var ok=1;\n")
    res = {os.path.basename(r.js_path): r for r in inject([str(tmp_path)])}
    assert res["bad.js"].action == "error" and "not valid JSON" in res["bad.js"].message
    assert res["notmap.js"].action == "error" and "not a sourcemap" in res["notmap.js"].message
    assert res["missing.js"].action == "injected" and "not found" in res["missing.js"].message
    assert res["binary.js"].action == "error" and "UTF-8" in res["binary.js"].message
    assert res["good.js"].action == "injected"
    assert (tmp_path / "bad.js").read_text() == "var a=1;\n//# sourceMappingURL=bad.js.map\n"


NODE_CHECK = """
const path = process.argv[1];
const load = path.endsWith('.mjs') ? import(path) : Promise.resolve(require(path));
load.then((mod) => {
  const ids = Object.values(globalThis._sentryDebugIds || {});
  const stacks = Object.keys(globalThis._sentryDebugIds || {});
  console.log(JSON.stringify({ids, stacks, exported: mod && (mod.default ?? mod.strict)}));
});
"""


@pytest.mark.tools("node")
@pytest.mark.parametrize(
    "name,body",
    [
        (
            "cjs_strict.js",
            "#!/usr/bin/env node\n'use strict';\n"
            "module.exports = { strict: (function () { return this === undefined; })"
            "() };\n",
        ),
        ("esm.mjs", "export default 42;\n"),
        (
            "midline.cjs",
            "/*! x */'use strict';module.exports="
            "{strict:(function(){return this===undefined})()};\n",
        ),
    ],
)
def test_injected_js_registers_its_debug_id_in_node(tmp_path, name, body):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        pytest.fail("node is needed (nodejs in APT_PACKAGES)")
    js = tmp_path / name
    js.write_text(body + f"//# sourceMappingURL={name}.map\n")
    (tmp_path / f"{name}.map").write_text(
        json.dumps({"version": 3, "sources": ["x.ts"], "names": [], "mappings": "AAAA;AACA"})
    )
    result = inject_file(str(js))
    assert result.action == "injected"
    out = subprocess.run(
        [node, "-e", NODE_CHECK, str(js)], capture_output=True, text=True, timeout=30, check=True
    )
    data = json.loads(out.stdout)
    assert data["ids"] == [result.debug_id]
    assert name in data["stacks"][0]
    assert data["exported"] in (True, 42)


@pytest.mark.parametrize("prefix", ["hashbang", "directive_midline"])
def test_inline_map_is_shifted_and_reencoded(tmp_path, prefix):
    import base64

    js, names, _ = _bundle(tmp_path, "inl", PREFIXES[prefix], seed=9)
    smap = (tmp_path / "inl.js.map").read_bytes()
    os.unlink(tmp_path / "inl.js.map")
    text = js.read_text().replace(
        "//# sourceMappingURL=inl.js.map",
        "//# sourceMappingURL=data:application/json;charset=utf-8;"
        "base64," + base64.b64encode(smap).decode(),
    )
    js.write_text(text)
    before = jsgen.resolve_all(smap, text, names)
    result = inject_file(str(js))
    assert (result.action, result.map_path) == ("injected", "inline")
    new_text = js.read_text()
    url = re.search(
        r"sourceMappingURL=data:application/json;charset=utf-8;base64,(\S+)", new_text
    ).group(1)
    new_map = base64.b64decode(url)
    assert json.loads(new_map)["debugId"] == result.debug_id
    assert jsgen.resolve_all(new_map, new_text, names) == before
    assert os.listdir(tmp_path) == ["inl.js"]  # nothing written beside it
