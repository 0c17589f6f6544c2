"""``releasetag serve`` start-up problems: one ``error:`` line and a non-zero exit."""

from __future__ import annotations

import socket
import subprocess
import sys


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
    assert proc.stderr.startswith("error: cannot open the collector database in ")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


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
