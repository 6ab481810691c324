"""Input checks for the fake's HTTP layer: query parameters and bodies, each failing with a 400.

The fake is strict where the spec is precise (UUIDs, enums, types) so a client that sends
something Pleo would reject finds out in tests, not in production.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pleo_export.testing._ids import normalize_uuid
from pleo_export.testing._rules import ApiError

__all__ = [
    "enum_value",
    "json_body",
    "optional_bool",
    "optional_str",
    "query_enums",
    "query_one",
    "query_uuid",
    "require_uuid",
    "timestamp",
]


def query_one(query: Sequence[tuple[str, str]], name: str) -> str | None:
    """Return the last value of query parameter ``name``, or None."""
    found = None
    for key, value in query:
        if key == name:
            found = value
    return found


def query_uuid(
    query: Sequence[tuple[str, str]], name: str, *, required: bool = False
) -> str | None:
    """Return query parameter ``name`` as a UUID; 400 if malformed, or absent but required."""
    raw = query_one(query, name)
    if raw is None or raw == "":
        if required:
            raise ApiError.bad_request(f"Query parameter `{name}` is required.")
        return None
    return require_uuid(raw, name)


def query_enums(
    query: Sequence[tuple[str, str]], names: Sequence[str], allowed: Sequence[str]
) -> set[str]:
    """Collect the values of parameters ``names`` (repeated or comma-separated); 400 if unknown."""
    found: set[str] = set()
    for key, value in query:
        if key in names:
            for part in value.split(","):
                if part:
                    found.add(enum_value(part, key, allowed))
    return found


def require_uuid(value: object, name: str) -> str:
    """Return ``value`` as a canonical UUID string, or raise a 400 naming the field."""
    normalized = normalize_uuid(value)
    if normalized is None:
        raise ApiError.bad_request(f"`{name}` must be a UUID.")
    return normalized


def enum_value(value: object, name: str, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise a 400 naming the field."""
    if not isinstance(value, str) or value not in allowed:
        raise ApiError.bad_request(f"`{name}` must be one of: {', '.join(allowed)}.")
    return value


def optional_str(body: dict[str, Any], name: str) -> str | None:
    """Return the string field ``name`` of ``body``, None if absent or null; 400 if not a string."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError.bad_request(f"`{name}` must be a string.")
    return value


def optional_bool(body: dict[str, Any], name: str, default: bool) -> bool:
    """Return the boolean field ``name`` of ``body``, ``default`` if absent or null."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError.bad_request(f"`{name}` must be a boolean.")
    return value


def timestamp(value: str, name: str) -> str:
    """Return ``value`` unchanged if it parses as an ISO 8601 date-time, else raise a 400."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ApiError.bad_request(f"`{name}` must be an ISO 8601 date-time.") from None
    return value


def json_body(raw: bytes) -> Any:
    """Parse a request body as JSON, raising a 400 if it is empty or malformed."""
    if not raw.strip():
        raise ApiError.bad_request("A JSON request body is required.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError.bad_request("The request body is not valid JSON.") from None
    except RecursionError:  # nested deeper than the parser's stack: Pleo answers 400 too
        raise ApiError.bad_request("The request body is nested too deeply.") from None
