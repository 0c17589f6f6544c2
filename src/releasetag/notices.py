"""One-line notices on stderr for set-up problems that would otherwise lose data silently.

They are written straight to ``sys.stderr`` (not through logging) so that they show whatever
the app's logging configuration is: an app that never configured logging, or one that routes
``releasetag`` to a NullHandler, still sees them. Each notice is written once per process.

- no release found at init() (events carry none, sessions are off);
- the DSN's key refused by the server (the first 401 or 403);
- init() called again (with the caller's file and line).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Set

    from .client import Client

PREFIX = "[releasetag] "
KEY_REFUSED = "key-refused"
_said: Set[str] = set()


def say_once(key: str, message: str) -> bool:
    """Write ``message`` as one line on stderr unless ``key`` was said before; never raises.
    True when it was written now."""
    if key in _said:
        return False
    _said.add(key)
    try:
        stream = sys.stderr
        if stream is not None:
            stream.write(PREFIX + message.replace("\n", " ") + "\n")
            stream.flush()
    except Exception:  # a closed or broken stderr: nothing more can be done
        pass
    return True


def mark_said(key: str) -> None:
    """Keep notice ``key`` quiet (a CLI command that reports the same thing itself)."""
    _said.add(key)


def no_release(client: Client) -> None:
    """Say that no release was found, what was tried and how to set one."""
    if client.options.release or not client.active:
        return
    from .detect.release import RELEASE_ENV_VARS, RELEASE_FILE_ENV, RELEASE_FILE_NAME

    say_once(
        "no-release",
        "no release found (tried the release option, "
        + ", ".join(RELEASE_ENV_VARS)
        + f", OTEL_RESOURCE_ATTRIBUTES service.version, ${RELEASE_FILE_ENV} or "
        f"./{RELEASE_FILE_NAME}, CI variables, git HEAD): events carry no release and "
        f"sessions are off. Set one with init(release=...), RELEASETAG_RELEASE=..., or stamp "
        f"{RELEASE_FILE_NAME} at build time (releasetag propose-version --stamp FILE)",
    )


def key_refused(netloc: str, project: str, status: Optional[int]) -> None:
    """The first 401/403 for the DSN's key: the events of this DSN are being dropped."""
    say_once(
        KEY_REFUSED,
        f"{netloc} refused the DSN's key for project {project} (HTTP {status}): check the "
        "DSN; events are dropped (counted as send_error, not retried) until it is fixed",
    )


def init_again() -> None:
    """init() was called again: say where from, once."""
    where = _caller()
    say_once(
        "init-again",
        f"init() called again{(' at ' + where) if where else ''}: the new options apply; "
        "in-flight sessions and scopes are kept",
    )


def _caller() -> Optional[str]:
    """file:line of the first frame outside releasetag (the app's init() call)."""
    try:
        frame = sys._getframe(1)
    except Exception:
        return None
    marker = __name__.rsplit(".", 1)[0]
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != marker and not str(module).startswith(marker + "."):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None
