"""The CLI's error type: one clear line and an exit code, never a traceback."""

from __future__ import annotations


class CliError(Exception):
    """A failure to report as ``error: <message>`` with ``exit_code`` (1 failure, 2 usage)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(CliError):
    """Bad arguments: exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)
