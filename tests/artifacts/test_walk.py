"""The shared walker (``build/artifacts/walk.py``) on generated trees: folders nested at
random, links between any two folders (loops included), links to files, FIFOs and broken
links. Whatever the tree, the walk ends, yields regular files only, every real folder under
one path only, every file once, and reports each FIFO and broken link once."""

from __future__ import annotations

import os
import tempfile
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasetag.build.artifacts.walk import UnsafeFile, Walk, read_inside, read_regular, real_roots

pytestmark = pytest.mark.timeout(120)


@st.composite
def trees(draw):
    n = draw(st.integers(1, 6))
    parents = [draw(st.integers(0, i)) for i in range(n)]  # folder i+1 lives in folder parents[i]
    files = draw(st.lists(st.integers(0, n), max_size=8))
    links = draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=5))
    file_links = draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, 7)), max_size=3))
    fifos = draw(st.lists(st.integers(0, n), max_size=2))
    broken = draw(st.lists(st.integers(0, n), max_size=2))
    return parents, files, links, file_links, fifos, broken


def _build(top, tree):
    parents, files, links, file_links, fifos, broken = tree
    folders = [top]
    for i, parent in enumerate(parents):
        path = os.path.join(folders[parent], f"d{i}")
        os.mkdir(path)
        folders.append(path)
    made = []
    for i, where in enumerate(files):
        path = os.path.join(folders[where], f"f{i}.js")
        with open(path, "w") as fh:
            fh.write(f"file {i}\n")
        made.append(path)
    for i, (where, target) in enumerate(links):
        os.symlink(folders[target], os.path.join(folders[where], f"l{i}"))
    for i, (where, target) in enumerate(file_links):
        if made:
            os.symlink(made[target % len(made)], os.path.join(folders[where], f"k{i}.js"))
    for i, where in enumerate(fifos):
        os.mkfifo(os.path.join(folders[where], f"p{i}.js"))
    for i, where in enumerate(broken):
        os.symlink("nowhere", os.path.join(folders[where], f"b{i}.js"))
    return made


@settings(max_examples=60, deadline=None)
@given(trees())
def test_any_tree_is_walked_once_and_ends(tree):
    with tempfile.TemporaryDirectory() as top:
        made = _build(top, tree)
        walk = Walk()
        found = list(walk.files(top))
        assert all(os.path.isfile(p) for p in found)  # regular files (links followed)
        # every real folder under one path only, every file once
        by_folder = {}
        for path in found:
            real = os.path.realpath(os.path.dirname(path))
            assert by_folder.setdefault(real, os.path.dirname(path)) == os.path.dirname(path)
        pairs = [(os.path.realpath(os.path.dirname(p)), os.path.basename(p)) for p in found]
        assert len(set(pairs)) == len(pairs)
        # nothing missed: every file made is reached
        assert {os.path.realpath(p) for p in made} <= {os.path.realpath(p) for p in found}
        reasons = Counter(s.message.split(" (")[0].split(";")[0] for s in walk.skipped)
        assert reasons["not a regular file"] == len(tree[4])
        assert reasons["broken symbolic link"] == len(tree[5])


def test_reads_refuse_what_is_not_a_regular_file_inside_the_roots(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.txt").write_text("ok")
    (tmp_path / "out.txt").write_text("secret")
    (root / "out").symlink_to(tmp_path / "out.txt")
    os.mkfifo(root / "pipe")
    roots = real_roots([str(root)])
    assert read_inside(str(root / "ok.txt"), roots, 10) == b"ok"
    for name, why in (("out", "outside"), ("pipe", "FIFO"), ("../out.txt", "outside")):
        with pytest.raises(UnsafeFile, match=why):
            read_inside(str(root / name), roots, 10)
    with pytest.raises(UnsafeFile, match="character device"):
        read_regular("/dev/zero")
    with pytest.raises(UnsafeFile, match="larger than 1 bytes"):
        read_inside(str(root / "ok.txt"), roots, 1)


def test_files_that_report_no_size_are_read_and_bounded():
    """``/proc`` files say size 0: their bytes are still read, and never past the limit."""
    status = read_regular("/proc/self/status", 1 << 20)
    assert status.startswith(b"Name:")
    with pytest.raises(UnsafeFile, match="larger than 8 bytes"):
        read_regular("/proc/self/status", 8)
