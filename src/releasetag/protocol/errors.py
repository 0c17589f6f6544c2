"""The one exception tree of releasetag.

Every failure releasetag reports to its caller is a :class:`ReleasetagError`; the CLI turns
one into a single ``error: <message>`` line and exits with ``exit_code``. The branches say
what kind of thing went wrong, so that callers can handle a kind without knowing modules:

- :class:`ConfigurationError`: a bad DSN, token, option, configuration file or data folder;
- :class:`ServerError`: the network failed or a server answered with an error;
- :class:`InputError`: input that cannot be used (an envelope, a release name, a time, a git
  repository); :class:`UsageError` is the command line's kind (exit code 2);
- :class:`ArtifactError`: a sourcemap, bundle or debug file that cannot be read or uploaded.

``ConfigurationError`` and ``InputError`` are also ``ValueError``\\ s, so code written
against ``init()``'s earlier ``ValueError`` keeps working.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


# appended to a failure that a pipeline may want to tolerate; dropped when it is tolerated
ALLOW_FAILURE_HINT = " (--allow-failure makes this a warning)"


class ReleasetagError(Exception):
    """The root: a failure with a message for people and an exit code for the CLI."""

    exit_code = 1

    def __init__(self, message: str = "", exit_code: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ReleasetagError, ValueError):
    """A bad DSN, token, option, configuration file or data folder."""


class ServerError(ReleasetagError):
    """The network failed, or the server answered with an error (``status`` when it did)."""

    def __init__(self, message: str = "", status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class InputError(ReleasetagError, ValueError):
    """Input that cannot be used as given."""


class UsageError(InputError):
    """A bad command-line argument: exit code 2."""

    exit_code = 2


class ArtifactError(ReleasetagError):
    """A release artifact (sourcemap, bundle, debug file) that cannot be read or uploaded."""
