"""What every command shares: exit codes and the one-line error (building the client is
``_connect``'s, so that a command's module need not import the client to say how it fails).
"""

from __future__ import annotations

import enum

from .._errors import (
    AuthenticationError,
    InvalidArgumentError,
    InvalidTransitionError,
    PermissionDeniedError,
    PleoError,
)

__all__ = ["CliError", "ExitCode", "exit_code_for"]


class ExitCode(enum.IntEnum):
    """The command line's exit statuses."""

    OK = 0
    #: Pleo (or the network) refused or failed a call.
    API_ERROR = 1
    #: Bad arguments: unknown command, malformed id, conflicting options.
    USAGE = 2
    #: No or rejected credentials, unknown environment, unsafe base URL.
    CONFIG = 3
    #: The job's status does not allow the move; refused before anything was sent.
    REFUSED = 4


class CliError(Exception):
    """A failure to report as one line on stderr, with the exit code to end with."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(error: PleoError) -> ExitCode:
    """Pick the exit code for an SDK error: auth → 3, a bad argument → 2, a move the job's known
    status forbids → 4, anything else → 1.

    A forbidden move is 4 only when the SDK refused it before sending
    (``InvalidTransitionError``); when Pleo refuses it (``InvalidStatusChangeError``, the job
    changed meanwhile) a request was made, so it is 1 like any other API error.
    """
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return ExitCode.CONFIG
    if isinstance(error, InvalidArgumentError):
        return ExitCode.USAGE
    if isinstance(error, InvalidTransitionError):
        return ExitCode.REFUSED
    return ExitCode.API_ERROR
