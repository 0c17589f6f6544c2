"""``releasetag serve`` start-up problems: one ``error:`` line and a non-zero exit."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import uuid

import pytest

from tests.support.collector import Collector
from tests.support.procs import stop_process


def serve(*args):
    return subprocess.run(
        [sys.executable, "-m", "releasetag", "serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_invalid_port(tmp_path):
    proc = serve("--port", "99999", "--data", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr == "error: invalid port 99999: use 0-65535\n"


def test_port_in_use(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = serve("--port", str(port), "--data", str(tmp_path / "d"))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert proc.stderr.count("\n") == 1


def test_data_folder_is_a_file(tmp_path):
    path = tmp_path / "afile"
    path.write_text("x")
    proc = serve("--port", "0", "--data", str(path))
    assert (proc.returncode, proc.stderr) == (
        1,
        f"error: data folder {path} is a file, not a folder\n",
    )


def test_data_folder_with_a_broken_database(tmp_path):
    (tmp_path / "collector.sqlite3").write_bytes(b"this is not sqlite " * 20)
    proc = serve("--port", "0", "--data", str(tmp_path))
    assert proc.returncode == 1
    note, error = proc.stderr.splitlines()  # the file was 0644: made private first
    assert note.startswith("note: tightened ") and note.endswith("collector's API token and events")
    assert error.startswith("error: cannot open the collector database in ")
    assert "Traceback" not in proc.stderr


def test_text_output_names_dsn_url_org_project_and_token(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "releasetag", "serve", "--port", "0", "--data", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(8)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    text = "".join(lines)
    assert text.startswith("releasetag collector listening on http://127.0.0.1:")
    for label in ("DSN:", "API URL:", "org:      local", "project:  local", "token:    rtk_"):
        assert label in text
    assert proc.returncode == 0  # SIGTERM stops it cleanly


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _db_files(data):
    db = os.path.join(data, "collector.sqlite3")
    return [db] + [db + side for side in ("-wal", "-shm") if os.path.exists(db + side)]


def test_a_new_data_folder_is_private_under_umask_022(tmp_path):
    data = str(tmp_path / "new" / "data")
    out = tmp_path / "serve.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "releasetag", "serve", "--port", "0", "--data", data, "--json"],
            stdout=fh,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.umask(0o022),
        )
        try:
            deadline = time.monotonic() + 30
            while b"\n" not in out.read_bytes():
                assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
                time.sleep(0.05)
            files = _db_files(data)
            assert [_mode(p) for p in files] == [0o600] * len(files)
            assert len(files) == 3  # WAL mode: -wal and -shm exist while it runs
            assert _mode(data) == 0o700
        finally:
            stop_process(proc)
    assert b"tightened" not in out.read_bytes()


def test_an_existing_open_folder_is_tightened_with_a_note(tmp_path):
    data = str(tmp_path / "data")
    first = Collector(data, umask=0o022)
    first.stop()
    os.chmod(data, 0o755)
    os.chmod(os.path.join(data, "collector.sqlite3"), 0o644)
    second = Collector(data, umask=0o022)
    try:
        assert _mode(data) == 0o700
        assert [_mode(p) for p in _db_files(data)] == [0o600] * len(_db_files(data))
        assert second.token == first.token  # the same collector, just private now
    finally:
        second.stop()
    notes = [line for line in second.stderr().splitlines() if "tightened" in line]
    assert notes == [
        f"note: tightened {data} from 0755 to 0700: it holds the collector's API token and events",
        f"note: tightened {data}/collector.sqlite3 from 0644 to 0600: it holds the "
        "collector's API token and events",
    ]


@pytest.mark.parametrize("how", ["--token", "--token-file", "env"])
def test_a_short_token_is_refused(tmp_path, how):
    secret = "short-secret"  # 12 characters
    args, env = ["--port", "0", "--data", str(tmp_path / "d")], dict(os.environ)
    if how == "--token":
        args += ["--token", secret]
    elif how == "--token-file":
        (tmp_path / "tok").write_text(secret + "\n")
        args += ["--token-file", str(tmp_path / "tok")]
    else:
        env["RELEASETAG_SERVE_TOKEN"] = secret
    proc = subprocess.run(
        [sys.executable, "-m", "releasetag", "serve", *args],
        capture_output=True, text=True, timeout=30, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "is 12 characters long; use at least 16" in proc.stderr
    assert secret not in proc.stderr + proc.stdout


def test_token_file_and_missing_file(tmp_path):
    proc = serve("--port", "0", "--data", str(tmp_path / "d"), "--token-file", str(tmp_path / "no"))
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"error: cannot read --token-file {tmp_path / 'no'}: No such file or directory\n"
    )
    proc = serve("--token", "x" * 20, "--token-file", str(tmp_path / "no"), "--data", str(tmp_path))
    assert (proc.returncode, proc.stderr) == (
        2,
        "error: give the token with --token or --token-file, not both\n",
    )


@pytest.mark.parametrize("how", ["--token-file", "env"])
def test_a_token_from_a_file_or_the_environment_stays_out_of_sight(tmp_path, how):
    secret = "file-or-env-" + uuid.uuid4().hex
    if how == "--token-file":
        (tmp_path / "tok").write_text(secret + "\n")
        kwargs = {"extra_args": ["--page-token", "--token-file", str(tmp_path / "tok")]}
    else:
        kwargs = {"extra_args": ["--page-token"], "env": {"RELEASETAG_SERVE_TOKEN": secret}}
    c = Collector(str(tmp_path / "data"), **kwargs)
    try:
        with open(f"/proc/{c.proc.pid}/cmdline", "rb") as fh:
            assert secret.encode() not in fh.read()  # what ps shows
        assert c.info["token"] is None and c.info["token_from"]
        assert c.request("GET", "/api/0/organizations/", token=secret)[0] == 200
        seen = b""
        for path in ("/", "/login/", "/releases/x/"):
            for headers in ({}, {"Authorization": f"Bearer {secret}"}):
                body = c.request("GET", path, headers=headers, token=None)[1]
                seen += body if isinstance(body, bytes) else json.dumps(body).encode()
        assert b"Releases" in seen and secret.encode() not in seen
    finally:
        c.stop()
    assert secret not in c.stderr()


def test_a_short_token_kept_from_an_older_start_gets_a_warning(tmp_path):
    from releasetag.collector.db.store import Store

    data = str(tmp_path / "data")
    Collector(data).stop()
    store = Store(os.path.join(data, "collector.sqlite3"))
    store.set_meta("token", "old-short")  # what --token accepted before
    store.close()
    c = Collector(data)
    try:
        assert c.token == "old-short"
        assert c.request("GET", "/api/0/organizations/")[0] == 200  # still works
    finally:
        c.stop()
    assert "warning: the stored API token is short or unusual" in c.stderr()
    assert "old-short" not in c.stderr()
