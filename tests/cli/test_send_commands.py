"""``send-event`` and ``send-envelope`` side by side with the real sentry-cli: the same flags,
the same recording server, the stored events compared field by field.

Deliberate differences (README): ``extra.environ`` is scrubbed (sentry-cli sends every
variable's value, the auth token included); no OS user name and ``{{auto}}`` IP when no
``-u`` is given; a glob that matches nothing is an error (exit 1), not a warning; the default
platform is ``other`` as sentry-cli's help says (its SDK sends ``native``); a logfile line's
leading ISO time is the breadcrumb's time (sentry-cli splits it at its first colon).
"""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.timeout(120)

FLAGS = (
    "-m", "disk %s is %s full", "-m", "second line", "-a", "/var", "-a", "91%",
    "-l", "warning", "-r", "shop@2.0", "-E", "staging", "-d", "build-7", "-p", "python",
    "-t", "region:eu-west:1", "-t", "shard:3", "-e", "job:nightly", "-u", "id:42",
    "-u", "email:ops@example.com", "-u", "team:infra", "-f", "disk-full", "-f", "{{ default }}",
    "--timestamp", "2024-05-01T10:00:00Z",
)  # fmt: skip


def _only_event(recorder, before=0):
    events = recorder.events()[before:]
    assert len(events) == 1, events
    return events[0]


def test_send_event_flags_make_the_same_event_as_sentry_cli(rt, sentry_cli, recorder, tmp_path):
    dsn = recorder.dsn()
    log = tmp_path / "build.log"
    log.write_text("".join(f"INFO: step {i}\n" if i % 3 else f"plain {i}\n" for i in range(150)))
    extra = ("--logfile", str(log), "--with-categories")
    env = {"SENTRY_DSN": dsn, "MY_API_TOKEN": "s3cr3t-value-123", "PLAIN_VAR": "visible"}
    ours = rt("send-event", *FLAGS, *extra, **env)
    assert ours.code == 0, ours
    assert ours.out.startswith("Event dispatched.\nEvent id: ")
    mine = _only_event(recorder)
    theirs_run = sentry_cli("send-event", *FLAGS, *extra, **env)
    assert theirs_run.code == 0, theirs_run
    theirs = _only_event(recorder, 1)

    for key in ("level", "release", "environment", "dist", "platform", "tags", "fingerprint"):
        assert mine.get(key) == theirs.get(key), key
    assert (
        mine["logentry"]
        == theirs["logentry"]
        == {
            "message": "disk %s is %s full\nsecond line",
            "params": ["/var", "91%"],
        }
    )
    assert mine["timestamp"] == pytest.approx(_seconds(theirs["timestamp"]))
    assert mine["tags"] == {"region": "eu-west:1", "shard": "3"}
    user = {k: v for k, v in theirs["user"].items() if k != "ip_address"}
    assert mine["user"] == user == {"id": "42", "email": "ops@example.com", "team": "infra"}
    assert mine["extra"]["job"] == theirs["extra"]["job"] == "nightly"

    # the last 100 lines as breadcrumbs, in order, with their own times
    ours_crumbs, their_crumbs = mine["breadcrumbs"]["values"], theirs["breadcrumbs"]["values"]
    assert len(ours_crumbs) == len(their_crumbs) == 100
    assert [c["message"] for c in ours_crumbs] == [c["message"] for c in their_crumbs]
    assert ours_crumbs[0]["message"] == "step 50" and ours_crumbs[0]["category"] == "INFO"
    assert ours_crumbs[1] == {**ours_crumbs[1], "message": "plain 51", "category": "log"}
    assert [c["category"] for c in ours_crumbs] == [c["category"] for c in their_crumbs]
    for mine_crumb, their_crumb in zip(ours_crumbs, their_crumbs):  # the file's mtime
        assert _seconds(mine_crumb["timestamp"]) == pytest.approx(
            _seconds(their_crumb["timestamp"]), abs=1
        )

    # environ: both send the variables; only ours hides a secret's value
    assert theirs["extra"]["environ"]["MY_API_TOKEN"] == "s3cr3t-value-123"
    assert mine["extra"]["environ"]["PLAIN_VAR"] == "visible"
    assert "MY_API_TOKEN" in mine["extra"]["environ"]
    assert "s3cr3t-value-123" not in json.dumps(mine)
    assert "test-token-1234" not in json.dumps(mine)  # SENTRY_AUTH_TOKEN of the fixture


def test_logfile_lines_keep_their_own_times(rt, recorder, tmp_path):
    """Where sentry-cli takes a line's time for a category (``2024-05-01T09`` from
    ``2024-05-01T09:00:50Z INFO: ...``), a leading ISO time is the breadcrumb's time."""
    log = tmp_path / "app.log"
    log.write_text(
        "2024-05-01T09:00:50Z INFO: started\n"
        "[2024-05-01 09:00:51,250] WARNING: slow disk\n"
        "no time: just text\n"
    )
    res = rt("send-event", "-m", "x", "--no-environ", "--logfile", str(log), "--with-categories",
             SENTRY_DSN=recorder.dsn())  # fmt: skip
    assert res.code == 0, res
    crumbs = _only_event(recorder)["breadcrumbs"]["values"]
    assert [(c["category"], c["message"], c.get("level")) for c in crumbs] == [
        ("INFO", "started", "info"),
        ("WARNING", "slow disk", "warning"),
        ("no time", "just text", None),
    ]
    assert _seconds(crumbs[0]["timestamp"]) == 1714554050.0
    assert _seconds(crumbs[1]["timestamp"]) == 1714554051.25
    assert _seconds(crumbs[2]["timestamp"]) == pytest.approx(os.path.getmtime(log), abs=1)


def _seconds(value):
    if isinstance(value, (int, float)):
        return float(value)
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_send_event_defaults_and_no_environ(rt, sentry_cli, recorder):
    env = {"SENTRY_DSN": recorder.dsn(), "SENTRY_RELEASE": "detected@1"}
    assert rt("send-event", "-m", "plain", "--no-environ", **env).code == 0
    assert sentry_cli("send-event", "-m", "plain", "--no-environ", **env).code == 0
    mine, theirs = recorder.events()
    assert mine["level"] == theirs.get("level", "error") == "error"  # its default: omitted
    # sentry-cli's help says its default platform is 'other'; its SDK sends 'native'
    assert (mine["platform"], theirs["platform"]) == ("other", "native")
    assert mine["release"] == theirs["release"] == "detected@1"
    assert "environ" not in (mine.get("extra") or {})
    assert "environ" not in (theirs.get("extra") or {})


def test_send_event_json_files_and_raw(rt, sentry_cli, recorder, tmp_path):
    folder = tmp_path / "events"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"e{n}.json").write_text(
            json.dumps(
                {
                    "event_id": f"{n:032x}",
                    "message": f"from file {n}",
                    "level": "info",
                    "release": "files@1",
                    "extra": {"password": "hunter2"},
                }
            )
        )
    env = {"SENTRY_DSN": recorder.dsn()}
    res = rt("send-event", str(folder / "*.json"), **env)
    assert res.code == 0, res
    assert res.out.splitlines() == [
        f"Event from file {folder / 'e1.json'} dispatched: {1:032x}",
        f"Event from file {folder / 'e2.json'} dispatched: {2:032x}",
    ]
    events = recorder.events()
    assert [e["event_id"] for e in events] == [f"{1:032x}", f"{2:032x}"]
    assert [e["release"] for e in events] == ["files@1", "files@1"]
    assert "hunter2" not in json.dumps(events)  # parsed files are scrubbed like any event

    before = len(recorder.events())
    assert rt("send-event", "--raw", str(folder / "e1.json"), **env).code == 0
    assert sentry_cli("send-event", "--raw", str(folder / "e1.json"), **env).code == 0
    raw_ours, raw_theirs = recorder.requests("/envelope/")[-2:]
    assert raw_ours.envelope().items[0].payload == (folder / "e1.json").read_bytes()
    assert raw_theirs.envelope().items[0].payload == (folder / "e1.json").read_bytes()
    assert len(recorder.events()) == before + 2


def test_send_envelope_checks_then_posts_the_bytes(rt, sentry_cli, recorder, tmp_path):
    from releasetag.protocol.envelope import Envelope

    env_file = tmp_path / "crash.envelope"
    envelope = Envelope({"event_id": "ab" * 16}).add_event(
        {"event_id": "ab" * 16, "message": "stored crash", "level": "fatal"}
    )
    env_file.write_bytes(envelope.serialize())
    env = {"SENTRY_DSN": recorder.dsn()}
    res = rt("send-envelope", str(env_file), **env)
    assert res.code == 0, res
    assert res.out == f"Envelope from file {env_file} dispatched\n"
    assert sentry_cli("send-envelope", str(env_file), **env).code == 0
    ours, theirs = recorder.requests("/envelope/")
    assert ours.body == env_file.read_bytes()
    # sentry-cli re-serializes the parsed event (adding a timestamp); we send the bytes
    their_event = theirs.envelope().event
    assert ours.envelope().event == {k: v for k, v in their_event.items() if k != "timestamp"}

    bad = tmp_path / "bad.envelope"
    bad.write_bytes(b"not json\n")
    res = rt("send-envelope", str(bad), **env)
    assert res.code == 1 and res.err.startswith(f"error: {bad}: not an envelope")
    assert len(res.err.splitlines()) == 1
    assert rt("send-envelope", "--raw", str(bad), **env).code == 0  # --raw: sent unchecked
    assert recorder.requests("/envelope/")[-1].body == b"not json\n"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("send-event", "-m", "x", "-t", "novalue"), 2, "argument -t/--tag: expected KEY:VALUE"),
        (("send-event", "-m", "x", "-l", "loud"), 2, "argument -l/--level: invalid choice"),
        (("send-event", "-m", "x", "--timestamp", "soon"), 2, "invalid time 'soon'"),
        (("send-event", "-m", "x", "-r", "latest"), 2, "'latest' is reserved"),
        (("send-event", "-m", "x", "-d", "x" * 65), 2, "the dist must be at most 64"),
        (("send-event", "-m", "x", "-d", " x"), 2, "must not start or end with whitespace"),
        (("send-event",), 2, "needs -m/--message or a PATH"),
        (("send-event", "nothing-here/*.json"), 1, "no files match 'nothing-here/*.json'"),
        (("send-event", "-m", "x", "--logfile", "missing.log"), 1, "cannot read --logfile"),
        (("send-envelope", "nothing.envelope"), 1, "no files match"),
        (("send-event", "-m", "x", "--bogus"), 2, "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line(rt, recorder, args, code, message):
    res = rt(*args, SENTRY_DSN=recorder.dsn())
    assert res.code == code, res
    assert message in res.err
    assert "Traceback" not in res.err
    assert recorder.requests("/envelope/") == []


def test_send_event_file_that_is_not_an_object(rt, recorder, tmp_path):
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "broken.json").write_text("{")
    for name, why in (("list.json", "an event is a JSON object"), ("broken.json", "not JSON")):
        res = rt("send-event", name, SENTRY_DSN=recorder.dsn())
        assert res.code == 1 and why in res.err and len(res.err.splitlines()) == 1, res
    assert os.path.exists(tmp_path / "list.json")
