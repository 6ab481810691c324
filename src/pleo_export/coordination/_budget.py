"""The shared request budget's arithmetic: one token bucket per key, the same in every backend.

A backend reads the key's row under its lock, calls ``take``, and writes the row it returns;
the clock is the store's (the machine's wall clock for SQLite, the server's for PostgreSQL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from .._errors import InvalidArgumentError
from ._types import TokenGrant

__all__ = ["Bucket", "take", "valid_take"]

#: Budget keys are hashes (64 hex digits); anything much longer is not one.
_KEY_MAX: Final = 128


@dataclass(frozen=True, slots=True)
class Bucket:
    """One key's stored bucket: tokens left as of ``updated`` and no grant before ``paused_until``
    (both in the store's clock, seconds)."""

    tokens: float
    updated: float
    paused_until: float


def valid_take(key: object, count: object, rate: object, capacity: object, pause: object) -> None:
    """Refuse arguments ``take_tokens`` cannot honour."""
    if not isinstance(key, str) or not key or len(key) > _KEY_MAX:
        raise InvalidArgumentError("key", f"must be a non-empty string of at most {_KEY_MAX}")
    for name, value in (("count", count), ("capacity", capacity)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(name, f"must be an int >= 1, got {value!r}")
    assert isinstance(count, int)
    assert isinstance(capacity, int)
    if count > capacity:
        raise InvalidArgumentError("count", f"{count} is more than the capacity {capacity}")
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise InvalidArgumentError("rate", f"expected tokens per second, got {rate!r}")
    if not math.isfinite(rate) or rate <= 0:
        raise InvalidArgumentError("rate", f"must be a finite number > 0, got {rate!r}")
    if isinstance(pause, bool) or not isinstance(pause, int | float):
        raise InvalidArgumentError("pause", f"expected seconds, got {pause!r}")
    if not math.isfinite(pause) or pause < 0:
        raise InvalidArgumentError("pause", f"must be a finite number >= 0, got {pause!r}")


def take(
    bucket: Bucket | None, now: float, *, count: int, rate: float, capacity: int, pause: float
) -> tuple[Bucket, TokenGrant]:
    """The bucket after a request for ``count`` tokens at ``now``, and what it granted.

    A new key starts full. Tokens accrue at ``rate`` since the last update, up to ``capacity``
    (a clock that went back adds none). The ``count`` tokens are always granted, outside a
    pause, and the bucket may go below zero: the grant's ``wait`` is then the time until the
    bucket is back at zero, when they may be spent. So callers that ask while others wait are
    served in the order they asked, each with one store call per block. A ``pause`` stops every
    grant until ``now + pause``.
    """
    if bucket is None:
        tokens, paused_until = float(capacity), 0.0
    else:
        elapsed = max(0.0, now - bucket.updated)
        tokens = min(float(capacity), bucket.tokens + elapsed * rate)
        paused_until = bucket.paused_until
    if pause > 0:
        paused_until = max(paused_until, now + pause)
    if now < paused_until:
        return Bucket(tokens, now, paused_until), TokenGrant(0, paused_until - now)
    tokens -= count
    return Bucket(tokens, now, paused_until), TokenGrant(count, max(0.0, -tokens / rate))
