"""The package's one HTTP layer (``net.httpconn``) through the Web API client, against
real server processes on 127.0.0.1 (tests/support/net_servers.py): plain HTTP, TLS with a
throwaway CA, an HTTP proxy, ``no_proxy``, the CA bundle variables, redirects to another
host, hostile answers and a server that sends its answer a byte at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasetag.build.config import Config
from releasetag.build.webapi.client import ApiClient, ApiError
from releasetag.net.netenv import bypasses, display_url, mask_credentials
from tests.support.procs import stop_process
from tests.support.recorder import ROOT

pytestmark = pytest.mark.timeout(60)

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
CA_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


class NetServer:
    """``python -m tests.support.net_servers MODE LOG [ARG]`` as a child process."""

    def __init__(self, tmp: Path, mode: str, arg: Optional[str] = None) -> None:
        self.log = tmp / f"{mode}-{os.urandom(4).hex()}.log"
        self.log.touch()
        self.stderr = open(tmp / f"{self.log.name}.err", "wb")
        env = dict(os.environ, PYTHONPATH=ROOT)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.net_servers", mode, str(self.log)]
            + ([arg] if arg else []),
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=ROOT,
            env=env,
        )
        line = self.proc.stdout.readline().decode()  # type: ignore[union-attr]
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])

    def url(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}"

    def requests(self) -> List[Dict[str, Any]]:
        return [json.loads(x) for x in self.log.read_text().splitlines() if x.strip()]

    def stop(self) -> None:
        stop_process(self.proc, 5)
        self.proc.stdout.close()  # type: ignore[union-attr]
        self.stderr.close()


@pytest.fixture
def servers(tmp_path, monkeypatch):
    for name in PROXY_VARS + CA_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    made: List[NetServer] = []

    def make(mode: str, arg: Optional[str] = None) -> NetServer:
        made.append(NetServer(tmp_path, mode, arg))
        return made[-1]

    yield make
    for s in made:
        s.stop()


@pytest.fixture
def tls(tmp_path):
    """(a certificate + key PEM for 127.0.0.1 and localhost, the CA's PEM) from trustme."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_pem = tmp_path / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    ca_pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    return str(server_pem), str(ca_pem)


def _client(url: str, retries: int = 0, **kw: Any) -> ApiClient:
    return ApiClient(
        Config(url=url, auth_token="tok", org="acme"), retries=retries, backoff=0, **kw
    )


def test_plain_http_keeps_the_connection_and_sends_the_token(servers):
    echo = servers("echo")
    with _client(echo.url()) as client:
        assert client.json("GET", "/a/") == {
            "path": "/api/0/a/",
            "auth": "Bearer tok",
            "host": f"127.0.0.1:{echo.port}",
        }
        assert client.json("POST", "/b/", json={"x": 1})["path"] == "/api/0/b/"
        assert len(client._idle[("http", f"127.0.0.1:{echo.port}")]) == 1  # kept alive


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_https_verifies_against_the_ca_bundle_variables(servers, tls, monkeypatch, variable):
    server_pem, ca_pem = tls
    echo = servers("echo", server_pem)
    monkeypatch.setenv(variable, ca_pem)
    with _client(echo.url("https")) as client:
        assert client.json("GET", "/organizations/")["auth"] == "Bearer tok"
        assert client.json("GET", "/again/")["path"] == "/api/0/again/"


def test_https_with_an_unknown_ca_is_one_line(servers, tls):
    echo = servers("echo", tls[0])
    with _client(echo.url("https")) as client, pytest.raises(ApiError) as info:
        client.json("GET", "/organizations/")
    message = info.value.message
    assert "certificate verify failed" in message and "\n" not in message
    assert message.startswith(f"cannot connect to {echo.url('https')} ")
    assert echo.requests() == []


def test_a_missing_ca_bundle_is_named_with_its_variable(servers, tls, monkeypatch, tmp_path):
    echo = servers("echo", tls[0])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "nope.pem"))
    with _client(echo.url("https")) as client, pytest.raises(ApiError) as info:
        client.json("GET", "/organizations/")
    assert f"the CA bundle {tmp_path / 'nope.pem'} from REQUESTS_CA_BUNDLE" in info.value.message


def test_plain_http_through_a_proxy_names_the_absolute_url(servers, monkeypatch):
    echo, proxy = servers("echo"), servers("proxy")
    monkeypatch.setenv("HTTP_PROXY", "http://user:p%40ss@" + proxy.url()[len("http://") :])
    with _client(echo.url("http", "localhost")) as client:
        assert client.json("GET", "/organizations/")["path"] == "/api/0/organizations/"
    (seen,) = proxy.requests()
    assert seen["line"] == f"GET http://localhost:{echo.port}/api/0/organizations/ HTTP/1.1"
    assert seen["headers"]["proxy-authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_https_through_a_proxy_tunnels_with_connect(servers, tls, monkeypatch):
    server_pem, ca_pem = tls
    echo, proxy = servers("echo", server_pem), servers("proxy")
    monkeypatch.setenv("HTTPS_PROXY", "http://u:pw@" + proxy.url()[len("http://") :])
    monkeypatch.setenv("SSL_CERT_FILE", ca_pem)
    with _client(echo.url("https", "localhost")) as client:
        assert client.json("GET", "/organizations/")["auth"] == "Bearer tok"
    (seen,) = proxy.requests()
    assert seen["line"].startswith(f"CONNECT localhost:{echo.port} HTTP/1.")
    assert seen["headers"]["proxy-authorization"] == "Basic dTpwdw=="
    assert "proxy-authorization" not in echo.requests()[0]["headers"]  # only to the proxy


def test_no_proxy_sends_directly(servers, monkeypatch):
    echo, proxy = servers("echo"), servers("proxy")
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.0/8")
    with _client(echo.url()) as client:
        assert client.json("GET", "/a/")["path"] == "/api/0/a/"
    assert proxy.requests() == [] and len(echo.requests()) == 1


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_socks5_proxy_carries_http_and_https(servers, tls, monkeypatch, scheme):
    pytest.importorskip("socks", reason="PySocks (the socks extra) is not installed")
    server_pem, ca_pem = tls
    echo = servers("echo", server_pem if scheme == "https" else None)
    proxy = servers("socks")
    monkeypatch.setenv("ALL_PROXY", f"socks5h://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("SSL_CERT_FILE", ca_pem)
    with _client(echo.url(scheme, "localhost")) as client:
        assert client.json("GET", "/organizations/")["auth"] == "Bearer tok"
    (seen,) = proxy.requests()
    assert seen["line"] == f"SOCKS5 localhost:{echo.port}"  # the name resolved by the proxy


@pytest.mark.parametrize(
    "no_proxy, host, port, bypass",
    [
        ("*", "anything", 80, True),
        ("example.com", "api.example.com", 443, True),
        (".example.com", "example.com", 443, True),
        ("*.example.com", "api.example.com", 443, True),
        ("example.com", "badexample.com", 443, False),
        ("example.com:8080", "example.com", 80, False),
        ("example.com:8080", "example.com", 8080, True),
        ("10.0.0.0/8", "10.1.2.3", 80, True),
        ("10.0.0.0/8", "11.1.2.3", 80, False),
        ("::1", "::1", 80, True),
        ("", "example.com", 80, False),
    ],
)
def test_no_proxy_rules(no_proxy, host, port, bypass):
    assert bypasses(no_proxy, host, port) is bypass


def test_a_redirect_to_another_host_does_not_carry_the_token(servers):
    other, first = servers("echo"), servers("echo")
    target = other.url("http", "localhost") + "/landed/"
    with _client(first.url()) as client:
        assert client.json("GET", f"/redirect/{target}")["path"] == "/landed/"
        # to the same origin the token goes on
        same = first.url() + "/same/"
        assert client.json("GET", f"/redirect/{same}")["auth"] == "Bearer tok"
    assert first.requests()[0]["headers"]["authorization"] == "Bearer tok"
    (landed,) = other.requests()
    assert "authorization" not in landed["headers"]


def _raw(servers, tmp_path, *replies: str) -> NetServer:
    script = tmp_path / f"script-{os.urandom(4).hex()}.json"
    script.write_text(json.dumps(list(replies)))
    return servers("raw", str(script))


OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"


def test_framing_interim_answers_and_http10(servers, tmp_path):
    chunked = (
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n"
    )
    server = _raw(
        servers,
        tmp_path,
        chunked,
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK,
        'CLOSE HTTP/1.0 201 Created\r\n\r\n{"version": "1"}',
        OK,
    )
    with _client(server.url()) as client:
        assert client.json("GET", "/a/") == [1, 2]
        assert client.json("GET", "/b/") == []
        assert client.json("POST", "/r/", json={}) == {"version": "1"}
        assert client.json("GET", "/c/") == []
    assert len(server.requests()) == 4


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("SSH-2.0-OpenSSH_9.6\r\n", "does not start with an HTTP/1.x status line"),
        ("HTTP/1.1 200 OK\r\nX: " + "a" * 70000 + "\r\n\r\n", "a line longer than 65536"),
        ("HTTP/1.1 200 OK\r\n" + "X-A: 1\r\n" * 150 + "\r\n", "more than 100 headers"),
        ("CLOSE HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "ended in the middle"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not valid HTTP/1.1"),
    ],
)
def test_a_hostile_answer_is_one_line(servers, tmp_path, reply, expected):
    server = _raw(servers, tmp_path, reply)
    with _client(server.url()) as client, pytest.raises(ApiError) as info:
        client.json("GET", "/a/")
    assert expected in info.value.message, info.value.message
    assert "\n" not in info.value.message and len(info.value.message) < 400


def test_an_answer_over_the_size_limit_is_refused(servers, tmp_path, monkeypatch):
    import releasetag.build.webapi.client as http_mod

    monkeypatch.setattr(http_mod, "MAX_BODY", 1000)
    server = _raw(servers, tmp_path, "CLOSE HTTP/1.1 200 OK\r\n\r\n" + "x" * 5000)
    with _client(server.url()) as client, pytest.raises(ApiError) as info:
        client.json("GET", "/a/")
    assert "larger than 1000 bytes" in info.value.message


def test_a_dripping_server_meets_the_deadline_and_leaves_no_thread(servers, tmp_path):
    server = _raw(servers, tmp_path, "drip")
    before = set(threading.enumerate())
    with _client(server.url(), timeout=(1.0, 1.0)) as client, pytest.raises(ApiError) as info:
        client.json("POST", "/releases/", json={"version": "1"})
    assert "no complete answer within 2 s" in info.value.message
    assert set(threading.enumerate()) == before
    assert len(server.requests()) == 1


# --- what comes from the environment, whatever it holds ---------------------------------


_secret = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/@?#"),
                  min_size=6, max_size=20)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    user=st.text(st.characters(min_codepoint=97, max_codepoint=122), max_size=8),
    password=_secret,
    host=st.from_regex(r"[a-z0-9.-]{1,20}(:[0-9]{1,5})?", fullmatch=True),
    path=st.text(max_size=20).map(lambda p: "/" + p.replace(" ", "")),
    prefix=st.text(max_size=20),
)
def test_a_password_in_a_url_is_never_shown(user, password, host, path, prefix):
    url = f"https://{user}:{password}@{host}{path}"
    assert password not in display_url(url).split(host, 1)[0]
    masked = mask_credentials(f"{prefix} {url} failed")
    assert f"{user}:{password}@" not in masked and "***@" in masked


@settings(max_examples=200, deadline=None)
@given(no_proxy=st.text(max_size=60), host=st.text(max_size=30), port=st.integers(0, 70000))
def test_any_no_proxy_value_gives_an_answer(no_proxy, host, port):
    assert bypasses(no_proxy, host, port) in (True, False)


# --- the runtime transport and the CLI share the layer ------------------------------------
def _child(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {"PATH": os.environ["PATH"], "PYTHONPATH": os.path.join(ROOT, "src"), "HOME": "/x"}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=full)  # fmt: skip


def test_the_runtime_transport_uses_the_ca_bundle_variables(servers, tls):
    server_pem, ca_pem = tls
    echo = servers("echo", server_pem)
    code = (
        "import releasetag\n"
        f"releasetag.init('https://key@localhost:{echo.port}/1', default_integrations=False)\n"
        "releasetag.capture_message('over TLS')\n"
        "print(releasetag.flush(10))\n"
    )
    out = _child(code, CURL_CA_BUNDLE=ca_pem)
    assert out.stdout.split() == ["True"], out.stderr
    (seen,) = echo.requests()
    assert seen["line"].startswith("POST /api/1/envelope/ HTTP/1.1")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_cli_command_loads_neither_requests_urllib3_nor_certifi(scheme):
    code = (
        "import sys; from releasetag.cli.main import main\n"
        "try: main(['releases', 'list', '--url', '" + scheme + "://127.0.0.1:9/',"
        " '--auth-token', 't', '-o', 'a'])\n"
        "except SystemExit: pass\n"
        "print(*(m in sys.modules for m in ('requests', 'urllib3', 'certifi')))"
    )
    out = _child(code, RELEASETAG_HTTP_RETRIES="0")
    assert "cannot connect to" in out.stderr  # it did try
    assert out.stdout.split() == ["False", "False", "False"], out.stderr
