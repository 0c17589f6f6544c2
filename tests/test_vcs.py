"""vcs.py: remote URL normalisation and history reading on real repositories."""

from __future__ import annotations

import pytest

from releasetag.build.vcs import (
    GitRepo,
    VcsError,
    normalize_remote_url,
    parse_remote_url,
    repo_name_from_url,
)
from tests.cli.gitrepo import GitRepo as ScratchRepo


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:Acme/Web.git",
        "git@github.com:acme/web",
        "https://github.com/Acme/Web",
        "https://github.com/Acme/Web.git/",
        "https://user:secret@GitHub.com/Acme/Web.git",
        "https://www.github.com/Acme/Web",
        "ssh://git@github.com:22/Acme/Web.git",
        "ssh://git@github.com/Acme/Web",
        "git://github.com/Acme/Web.git",
        "https://github.com:443/Acme/Web",
    ],
)
def test_forms_of_one_repository_normalise_alike(url):
    assert normalize_remote_url(url) == "github.com/acme/web"
    assert repo_name_from_url(url).lower() == "acme/web"


def test_name_keeps_case_and_nested_groups():
    assert repo_name_from_url("git@github.com:Acme/Web.git") == "Acme/Web"
    assert repo_name_from_url("https://gitlab.com/group/sub/proj.git") == "group/sub/proj"


def test_azure_forms_match():
    ssh = "git@ssh.dev.azure.com:v3/org/proj/repo"
    https = "https://org@dev.azure.com/org/proj/_git/repo"
    assert normalize_remote_url(ssh) == normalize_remote_url(https) == "dev.azure.com/org/proj/repo"
    assert repo_name_from_url(ssh) == "org/proj/repo"


def test_local_paths():
    assert parse_remote_url("/srv/git/web.git").host == ""
    assert repo_name_from_url("/srv/git/web.git") == "git/web"
    assert repo_name_from_url("file:///srv/git/web.git") == "git/web"
    assert normalize_remote_url("") is None


def test_not_a_repository(tmp_path):
    with pytest.raises(VcsError) as info:
        GitRepo.open(str(tmp_path))
    assert str(info.value).startswith(f"not a git repository: {tmp_path}")


def test_history_reading(tmp_path):
    repo = ScratchRepo.init(tmp_path / "r", tmp_path, "git@github.com:Acme/Web.git")
    repo.write("a b.txt", "x\n")
    repo.write("ünï.txt", "y\n")
    first = repo.commit("first\n\nbody with \x1e separator")
    repo.write("a b.txt", "z\n")
    second = repo.commit("second")
    g = GitRepo.open(str(repo.path / "."))
    try:
        assert g.head() == second
        assert g.resolve(first[:8]) == first
        assert g.resolve("f" * 40) is None
        assert g.is_shallow() is False
        assert g.remote() == ("origin", "git@github.com:Acme/Web.git")
        c2, c1 = g.commits()
        assert (c1.id, c2.id) == (first, second)
        assert c1.message == "first\n\nbody with \x1e separator\n"
        assert sorted(c1.patch_set) == [("A", "a b.txt"), ("A", "ünï.txt")]
        assert c2.patch_set == [("M", "a b.txt")]
        assert [c.id for c in g.commits(since=first)] == [second]
        with pytest.raises(VcsError) as info:
            g.remote("upstream")
        assert "no git remote named 'upstream' (remotes: origin)" in str(info.value)
    finally:
        g.close()
