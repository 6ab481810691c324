"""What every command shares: exit codes, the one-line error, and building the client.

Credentials come from flags or the environment (``PLEO_API_KEY``, ``PLEO_BEARER_TOKEN``,
``PLEO_ENVIRONMENT``, ``PLEO_BASE_URL``). They are handed to ``PleoExport`` and never printed;
the messages here name the variables, not their values.
"""

from __future__ import annotations

import argparse
import enum
import os

from .._client import PleoExport
from .._config import API_KEY_ENV, BASE_URL_ENV, BEARER_TOKEN_ENV, ENVIRONMENT_ENV, ENVIRONMENTS
from .._errors import (
    AuthenticationError,
    InvalidArgumentError,
    InvalidTransitionError,
    PermissionDeniedError,
    PleoError,
)

__all__ = ["CliError", "ExitCode", "build_client", "exit_code_for"]


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


def _flag_or_env(args: argparse.Namespace, name: str, env: str) -> str | None:
    value = getattr(args, name, None)
    return value or os.environ.get(env) or None


def build_client(args: argparse.Namespace) -> PleoExport:
    """Build the client from the parsed flags and the environment.

    Precedence: ``--api-key`` over ``PLEO_API_KEY`` over ``PLEO_BEARER_TOKEN``; ``--base-url``
    over ``--environment`` over ``PLEO_BASE_URL`` over ``PLEO_ENVIRONMENT``.

    Raises:
        CliError: no credentials, or a bad environment or base URL (exit code 3).
    """
    api_key = _flag_or_env(args, "api_key", API_KEY_ENV)
    token = None if api_key else os.environ.get(BEARER_TOKEN_ENV) or None
    if api_key is None and token is None:
        raise CliError(
            f"no credentials: set {API_KEY_ENV} (or {BEARER_TOKEN_ENV}), or pass --api-key",
            ExitCode.CONFIG,
        )
    base_url = getattr(args, "base_url", None)
    environment = getattr(args, "environment", None)
    if base_url is None and environment is None:
        base_url = os.environ.get(BASE_URL_ENV) or None
        if base_url is None:
            environment = os.environ.get(ENVIRONMENT_ENV) or None
    if environment is not None and environment not in ENVIRONMENTS:
        raise CliError(
            f"unknown environment {environment!r}; expected one of {', '.join(ENVIRONMENTS)}",
            ExitCode.CONFIG,
        )
    insecure = bool(getattr(args, "allow_insecure_http", False))
    try:
        return PleoExport(
            api_key=api_key,
            bearer_token=token,
            environment=environment,
            base_url=base_url,
            allow_insecure_http=insecure,
        )
    except InvalidArgumentError as exc:
        if exc.argument == "base_url" and not insecure and str(base_url).startswith("http:"):
            # The SDK's own advice names its Python argument; here the flag is the way.
            raise CliError(
                f"plain http to {base_url} would send credentials in clear text; use https, "
                "or pass --allow-insecure-http if you must",
                ExitCode.CONFIG,
            ) from exc
        raise CliError(str(exc), ExitCode.CONFIG) from exc
    except PleoError as exc:
        raise CliError(str(exc), ExitCode.CONFIG) from exc
