"""The auth token is never printed: not when it holds a character a header cannot carry,
not when a server's error answer echoes it back, whatever the command."""

from __future__ import annotations

import pytest

TOKEN = "test-token-1234"

COMMANDS = [
    ("releases", "new", "1.0"),
    ("releases", "list"),
    ("releases", "finalize", "1.0"),
    ("deploys", "new", "-r", "1.0", "-e", "production"),
]


@pytest.mark.parametrize(
    "bad",
    ["abc\ndef-secret", "abc def-secret", "abc\r\nX-Injected: 1", "é-secret"],
)
def test_a_token_a_header_cannot_carry_is_refused_without_showing_it(rt, recorder, bad):
    res = rt("releases", "new", "1.0", SENTRY_AUTH_TOKEN=bad)
    assert res.code == 1
    assert res.err.count("\n") == 1 and "Traceback" not in res.err
    assert "holds a space, a newline or another character" in res.err
    assert "secret" not in res.err and "Injected" not in res.err and "abc" not in res.err
    assert recorder.requests() == []  # nothing was sent


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
def test_a_server_echoing_the_token_does_not_make_the_cli_print_it(rt, recorder, command, status):
    recorder.respond(
        {"status": status, "body": {"detail": f"bad request: Authorization: Bearer {TOKEN}"}}
    )
    res = rt(*command, RELEASETAG_HTTP_RETRIES="0")
    assert res.code == 1, res
    assert TOKEN not in res.err and TOKEN not in res.out
    assert recorder.requests(), "the request was sent"


def test_an_echoed_token_is_shown_redacted(rt, recorder):
    recorder.respond({"status": 400, "body": {"detail": f"no such token {TOKEN} here"}})
    res = rt("releases", "new", "1.0", RELEASETAG_HTTP_RETRIES="0")
    assert res.code == 1
    assert "(server said: no such token [token] here)" in res.err
