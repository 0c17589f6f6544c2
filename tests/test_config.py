"""Build-time configuration precedence: flags > RELEASETAG_* > SENTRY_* > ini files > token."""

from __future__ import annotations

import base64
import json

import pytest

from releasetag.build.config import ConfigError, find_rc_files, load_config, parse_org_token


def _org_token(url="https://eu.example.test", org="tokorg", pad=False):
    payload = base64.b64encode(json.dumps({"iat": 1, "url": url, "org": org}).encode()).decode()
    if not pad:
        payload = payload.rstrip("=")
    return f"sntrys_{payload}_SeCrEt"


def test_defaults():
    cfg = load_config(env={}, cwd="/", home="/nonexistent")
    assert cfg.url == "https://sentry.io/"
    assert cfg.auth_token is None and cfg.org is None and cfg.projects == ()


def test_flags_beat_env_which_beats_sentry_env(tmp_path):
    env = {
        "RELEASETAG_ORG": "rt-org",
        "SENTRY_ORG": "s-org",
        "SENTRY_PROJECT": "s-proj",
        "SENTRY_URL": "http://s.example/",
        "RELEASETAG_AUTH_TOKEN": "rt-tok",
        "SENTRY_AUTH_TOKEN": "s-tok",
    }
    cfg = load_config(env=env, cwd=str(tmp_path), home=str(tmp_path))
    assert (cfg.org, cfg.projects, cfg.url, cfg.auth_token) == (
        "rt-org",
        ("s-proj",),
        "http://s.example/",
        "rt-tok",
    )
    assert cfg.source_of("org") == "RELEASETAG_ORG"
    cfg = load_config(
        org="flag-org", projects=["a", "b"], env=env, cwd=str(tmp_path), home=str(tmp_path)
    )
    assert cfg.org == "flag-org" and cfg.projects == ("a", "b")
    assert cfg.source_of("org") == "--org"


def test_ini_files_nearest_first_then_home(tmp_path):
    home = tmp_path / "home"
    work = tmp_path / "repo" / "sub"
    work.mkdir(parents=True)
    home.mkdir()
    (home / ".sentryclirc").write_text(
        "[auth]\ntoken = home-token\n[defaults]\norg = home-org\n"
        "url = http://home.example\nproject = home-proj\n"
    )
    (tmp_path / "repo" / ".sentryclirc").write_text("[defaults]\norg = repo-org\n")
    (tmp_path / "repo" / ".releasetagrc").write_text("[defaults]\nproject = rt-proj\n")
    assert find_rc_files(str(work), str(home)) == [
        str(tmp_path / "repo" / ".releasetagrc"),
        str(tmp_path / "repo" / ".sentryclirc"),
        str(home / ".sentryclirc"),
    ]
    cfg = load_config(env={}, cwd=str(work), home=str(home))
    assert cfg.org == "repo-org"
    assert cfg.projects == ("rt-proj",)
    assert cfg.auth_token == "home-token"
    assert cfg.url == "http://home.example/"
    assert cfg.source_of("auth_token") == str(home / ".sentryclirc")
    # env beats ini
    cfg = load_config(env={"SENTRY_ORG": "env-org"}, cwd=str(work), home=str(home))
    assert cfg.org == "env-org"


def test_broken_ini_is_one_clear_error(tmp_path):
    (tmp_path / ".releasetagrc").write_text("not an ini file\n")
    with pytest.raises(ConfigError) as info:
        load_config(env={}, cwd=str(tmp_path), home=str(tmp_path))
    assert ".releasetagrc" in str(info.value)


@pytest.mark.parametrize("pad", [True, False])
def test_org_token_supplies_url_and_org(pad):
    token = _org_token(pad=pad)
    assert parse_org_token(token).org == "tokorg"
    cfg = load_config(env={"SENTRY_AUTH_TOKEN": token}, cwd="/", home="/nonexistent")
    assert cfg.url == "https://eu.example.test/" and cfg.org == "tokorg"
    assert cfg.source_of("org") == "the organization token"
    assert cfg.warnings == ()
    # the token only works for its own server and organization: its values win, with a
    # warning (sentry-cli does the same)
    cfg = load_config(
        url="http://127.0.0.1:9",
        org="mine",
        env={"SENTRY_AUTH_TOKEN": token},
        cwd="/",
        home="/nonexistent",
    )
    assert cfg.url == "https://eu.example.test/" and cfg.org == "tokorg"
    assert cfg.warnings == (
        "using url 'https://eu.example.test' from the organization token instead of "
        "'http://127.0.0.1:9' from --url",
        "using org 'tokorg' from the organization token instead of 'mine' from --org",
    )
    cfg = load_config(
        org="tokorg",
        url="https://eu.example.test/",
        env={"SENTRY_AUTH_TOKEN": token},
        cwd="/",
        home="/nonexistent",
    )
    assert cfg.warnings == () and cfg.source_of("org") == "--org"


def test_other_tokens_are_not_org_tokens():
    assert parse_org_token("sntryu_abc") is None
    assert parse_org_token("sntrys_!!!notbase64_x") is None
    assert parse_org_token("0123abcd") is None


def test_repr_hides_token():
    cfg = load_config(auth_token="very-secret", env={}, cwd="/", home="/nonexistent")
    assert "very-secret" not in repr(cfg) and "very-secret" not in str(cfg)


def test_bad_url_is_rejected_with_its_source():
    with pytest.raises(ConfigError) as info:
        load_config(env={"SENTRY_URL": "sentry.example.com"}, cwd="/", home="/nonexistent")
    assert "SENTRY_URL" in str(info.value) and "http://" in str(info.value)
