"""Building the client from the command line's flags and the environment.

Credentials come from flags or the environment (``PLEO_API_KEY``, ``PLEO_BEARER_TOKEN``,
``PLEO_ENVIRONMENT``, ``PLEO_BASE_URL``). They are handed to ``PleoExport`` and never printed;
the messages here name the variables, not their values.
"""

from __future__ import annotations

import argparse
import os

from .._client import PleoExport
from .._config import API_KEY_ENV, BASE_URL_ENV, BEARER_TOKEN_ENV, ENVIRONMENT_ENV, ENVIRONMENTS
from .._errors import InvalidArgumentError, PleoError
from ._context import CliError, ExitCode

__all__ = ["build_client"]


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
