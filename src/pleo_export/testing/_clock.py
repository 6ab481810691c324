"""Clocks for the fake: the system clock, and a manual one tests move forward without sleeping.

A clock is any callable returning an aware ``datetime``; this module also formats timestamps the
way Pleo's examples do (UTC, ``Z`` suffix).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "ManualClock", "format_timestamp", "system_clock"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until told to move, for expiry tests without sleeping.

    Args:
        start: The first reading; an aware datetime. Defaults to now, truncated to the second.

    Example:
        >>> clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
        >>> clock.advance(seconds=3601)
        >>> clock().isoformat()
        '2026-01-01T01:00:01+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        now = start if start is not None else system_clock().replace(microsecond=0)
        if now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime (with tzinfo).")
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        """Return the current reading."""
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0) -> None:
        """Move the clock forward by the given amount."""
        step = timedelta(seconds=seconds, minutes=minutes, hours=hours)
        if step < timedelta(0):
            raise ValueError("A ManualClock only moves forward.")
        with self._lock:
            self._now += step

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (an aware datetime, not earlier than the current reading)."""
        with self._lock:
            if when < self._now:
                raise ValueError("A ManualClock only moves forward.")
            self._now = when


def format_timestamp(when: datetime) -> str:
    """Format ``when`` as ISO 8601 in UTC with a ``Z`` suffix, milliseconds only if non-zero."""
    utc = when.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
