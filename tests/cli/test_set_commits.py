"""``releasetag releases set-commits``: real git repositories, the CLI as a subprocess, the
recording server as the Web API."""

from __future__ import annotations

import json

import pytest

from tests.cli.gitrepo import GitRepo

GITHUB_REPO = {
    "id": "1",
    "name": "Acme/Web",
    "url": "https://github.com/acme/web",
    "provider": {"id": "integrations:github", "name": "GitHub"},
    "integrationId": "77",
}
OTHER_REPO = {
    "id": "2",
    "name": "Acme/Api",
    "url": "https://github.com/Acme/Api",
    "provider": {"id": "integrations:github", "name": "GitHub"},
    "integrationId": "77",
}


def _history(repo: GitRepo, n: int) -> list:
    shas = []
    for i in range(n):
        repo.write(f"f{i}.txt", f"{i}\n")
        shas.append(repo.commit(f"commit {i}"))
    return shas


def _put_body(recorder):
    puts = [r for r in recorder.requests() if r["method"] == "PUT"]
    assert len(puts) == 1, recorder.requests()
    assert puts[0]["path"] == "/api/0/organizations/acme/releases/1.0/"
    return puts[0].json()


def test_local_sends_latest_10_without_merges_and_owner_repo(rt, recorder, make_repo):
    repo = make_repo()
    shas = _history(repo, 11)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.txt", "x\n")
    feature = repo.commit("feature work")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    merge = repo.head()
    res = rt("releases", "set-commits", "1.0", "--local", cwd=repo.path)
    assert res.code == 0, res
    assert "no earlier release with commits: using the latest 10 commits" in res.err
    commits = _put_body(recorder)["commits"]
    ids = [c["id"] for c in commits]
    assert merge not in ids
    assert ids == [feature] + shas[::-1][:9]
    assert {c["repository"] for c in commits} == {"Acme/Web"}  # not "origin" (sentry-cli)
    first = commits[1]
    assert first["author_name"] == "Ada Lovelace" and first["author_email"] == "ada@example.com"
    assert first["message"] == "commit 10\n"
    assert first["timestamp"] == "2023-11-14T22:24:20Z"
    assert first["patch_set"] == [{"path": "f10.txt", "type": "A"}]
    assert res.out.strip() == "Set 10 commits of Acme/Web for release 1.0"
    # the release is created first, with the project
    post = recorder.requests()[0]
    assert post["method"] == "POST" and post.json() == {"version": "1.0", "projects": ["web"]}


def test_patch_set_types_and_rename_as_delete_plus_add(rt, recorder, make_repo):
    repo = make_repo()
    repo.write("keep.txt", "1\n")
    repo.write("old_name.py", "print('hello world, long enough to be a rename')\n" * 5)
    repo.write("gone.txt", "bye\n")
    repo.commit("first")
    repo.git("mv", "old_name.py", "new_name.py")
    repo.git("rm", "-q", "gone.txt")
    repo.write("keep.txt", "2\n")
    repo.write("dir/added.txt", "new\n")
    repo.commit("second", tz="+0200")
    res = rt("releases", "set-commits", "1.0", "--local", "--initial-depth", "1", cwd=repo.path)
    assert res.code == 0, res
    (commit,) = _put_body(recorder)["commits"]
    assert sorted((p["type"], p["path"]) for p in commit["patch_set"]) == [
        ("A", "dir/added.txt"),
        ("A", "new_name.py"),
        ("D", "gone.txt"),
        ("D", "old_name.py"),
        ("M", "keep.txt"),
    ]
    assert commit["timestamp"] == "2023-11-15T00:15:20+02:00"


def test_local_since_previous_release(rt, recorder, make_repo):
    repo = make_repo()
    shas = _history(repo, 6)
    recorder.respond(
        {
            "path": "/previous-with-commits/",
            "body": {"version": "0.9", "lastCommit": {"id": shas[2]}},
        }
    )
    res = rt("releases", "set-commits", "1.0", "--local", "--json", cwd=repo.path)
    assert res.code == 0, res
    assert [c["id"] for c in _put_body(recorder)["commits"]] == shas[:2:-1]
    out = json.loads(res.out)
    assert out["previousCommit"] == shas[2] and out["commits"] == shas[:2:-1]


def test_no_new_commits_sends_nothing(rt, recorder, make_repo):
    repo = make_repo()
    shas = _history(repo, 2)
    recorder.respond(
        {
            "path": "/previous-with-commits/",
            "body": {"version": "0.9", "lastCommit": {"id": shas[-1]}},
        }
    )
    res = rt("releases", "set-commits", "1.0", "--local", cwd=repo.path)
    assert res.code == 0, res
    assert "No new commits" in res.out
    assert [r["method"] for r in recorder.requests()] == ["POST", "GET"]


def test_previous_commit_missing(rt, recorder, make_repo):
    repo = make_repo()
    _history(repo, 4)
    recorder.respond(
        {
            "path": "/previous-with-commits/",
            "body": {"version": "0.9", "lastCommit": {"id": "f" * 40}},
        }
    )
    res = rt("releases", "set-commits", "1.0", "--local", cwd=repo.path)
    assert res.code == 1
    assert res.err.strip() == (
        "error: commit ffffffffffff of the previous release '0.9' is not in this repository: "
        "pass --ignore-missing to use the latest 10 commits instead"
    )
    res = rt(
        "releases",
        "set-commits",
        "1.0",
        "--local",
        "--ignore-missing",
        "--initial-depth",
        "2",
        cwd=repo.path,
    )
    assert res.code == 0, res
    assert "warning: commit ffffffffffff" in res.err
    assert len(_put_body(recorder)["commits"]) == 2


def test_shallow_clone_names_the_fix_and_deepen_fetches(rt, recorder, make_repo, tmp_path):
    origin = make_repo("origin", remote=None)
    shas = _history(origin, 6)
    work = GitRepo(tmp_path / "work", origin.home)
    origin.git("clone", "-q", "--depth", "2", f"file://{origin.path}", str(work.path))
    assert work.git("rev-parse", "--is-shallow-repository").strip() == "true"
    recorder.respond(
        {
            "path": "/previous-with-commits/",
            "body": {"version": "0.9", "lastCommit": {"id": shas[1]}},
        }
    )
    res = rt("releases", "set-commits", "1.0", "--local", cwd=work.path)
    assert res.code == 1
    assert (
        "is missing from this shallow clone: fetch more history (git fetch --unshallow" in res.err
        and "--deepen" in res.err
    )
    res = rt("releases", "set-commits", "1.0", "--local", "--deepen", cwd=work.path)
    assert res.code == 0, res
    commits = _put_body(recorder)["commits"]
    assert [c["id"] for c in commits] == shas[:1:-1]
    assert {c["repository"] for c in commits} == {f"{tmp_path.name}/origin"}


def test_auto_matches_remote_url_across_forms(rt, recorder, make_repo):
    repo = make_repo(remote="ssh://git@GitHub.com:22/Acme/Web.git")
    _history(repo, 2)
    link = (
        f'<{recorder.url}/api/0/organizations/acme/repos/?cursor=c2>; rel="next"; '
        'results="true"; cursor="c2"'
    )
    recorder.respond(
        {"path": "/repos/", "times": 1, "headers": {"Link": link}, "body": [OTHER_REPO]},
        {"path": "/repos/", "body": [GITHUB_REPO]},
    )
    res = rt("releases", "set-commits", "1.0", "--auto", cwd=repo.path)
    assert res.code == 0, res
    assert _put_body(recorder) == {
        "refs": [{"repository": "Acme/Web", "commit": repo.head(), "previousCommit": None}]
    }
    assert "Acme/Web" in res.out
    assert [r["query"] for r in recorder.requests("/repos/")] == [{}, {"cursor": "c2"}]


def test_auto_without_match_says_what_it_compared_and_falls_back(rt, recorder, make_repo):
    repo = make_repo(remote="https://gitlab.example.com/Acme/Web.git")
    shas = _history(repo, 2)
    recorder.respond({"path": "/repos/", "body": [GITHUB_REPO]})
    res = rt("releases", "set-commits", "1.0", cwd=repo.path)  # --auto is the default
    assert res.code == 0, res
    assert (
        "no repository of organization 'acme' matches remote origin "
        "https://gitlab.example.com/Acme/Web.git (gitlab.example.com/acme/web); the server "
        "has: Acme/Web (https://github.com/acme/web)"
    ) in res.err
    assert [c["id"] for c in _put_body(recorder)["commits"]] == shas[::-1]


def test_explicit_commits(rt, recorder, make_repo):
    repo = make_repo()
    _history(repo, 1)
    recorder.respond({"path": "/repos/", "body": [GITHUB_REPO, OTHER_REPO]})
    res = rt(
        "releases",
        "set-commits",
        "1.0",
        "--commit",
        "acme/web@abc123..def456",
        "-c",
        "Acme/Api@fff",
        "-c",
        "Acme/Web",
        cwd=repo.path,
    )
    assert res.code == 0, res
    assert _put_body(recorder) == {
        "refs": [
            {"repository": "Acme/Web", "commit": "def456", "previousCommit": "abc123"},
            {"repository": "Acme/Api", "commit": "fff", "previousCommit": None},
            {"repository": "Acme/Web", "commit": repo.head(), "previousCommit": None},
        ]
    }


def test_unknown_repository_lists_the_known_ones(rt, recorder):
    recorder.respond({"path": "/repos/", "body": [GITHUB_REPO, OTHER_REPO]})
    res = rt("releases", "set-commits", "1.0", "--commit", "Acme/Nope@abc")
    assert res.code == 1
    assert res.err.strip() == (
        "error: unknown repository 'Acme/Nope' in --commit: the "
        "repositories of organization 'acme' are: Acme/Api, Acme/Web"
    )
    assert not [r for r in recorder.requests() if r["method"] == "PUT"]


def test_clear(rt, recorder):
    res = rt("releases", "set-commits", "1.0", "--clear")
    assert res.code == 0, res
    assert _put_body(recorder) == {"refs": []}


@pytest.mark.parametrize("flag", ["--local", "--auto"])
def test_not_a_git_repository(rt, recorder, tmp_path, flag):
    (tmp_path / "plain").mkdir()
    recorder.respond({"path": "/repos/", "body": []})
    res = rt("releases", "set-commits", "1.0", flag, cwd=tmp_path / "plain")
    assert res.code == 1
    assert res.err.startswith(f"error: not a git repository: {tmp_path / 'plain'}")
    assert len(res.err.strip().splitlines()) == 1


def test_commit_without_sha_outside_git(rt, recorder, tmp_path):
    recorder.respond({"path": "/repos/", "body": [GITHUB_REPO]})
    res = rt("releases", "set-commits", "1.0", "-c", "Acme/Web")
    assert res.code == 1 and "not a git repository" in res.err
