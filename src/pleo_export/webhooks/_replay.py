"""Replay protection: the ``ReplayStore`` protocol of accepted ``webhook-id``s and its in-memory
implementation.

A store only answers "is this id new?"; what a repeat means (refuse it, or answer 2xx without
acting) is decided by ``verify_and_parse`` and the endpoint. Shared stores (Redis, a database
table) are left to the application: implement the two methods below.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pleo_export._config import DEFAULT_REPLAY_MAX_ENTRIES, DEFAULT_REPLAY_TTL
from pleo_export._errors import InvalidArgumentError

__all__ = ["InMemoryReplayStore", "ReplayStore"]


@runtime_checkable
class ReplayStore(Protocol):
    """Remembers which ``webhook-id``s were accepted, so a repeat is recognised.

    Both methods are synchronous and must be safe to call from several threads. A store that
    spans processes should make ``claim`` atomic (e.g. Redis ``SET id 1 NX EX ttl``).
    """

    def claim(self, webhook_id: str) -> bool:
        """Record ``webhook_id``; return False if it was already recorded (and not expired)."""
        ...

    def release(self, webhook_id: str) -> None:
        """Forget ``webhook_id`` (its handling failed), so the sender's retry is taken as new."""
        ...


class InMemoryReplayStore:
    """A bounded, expiring set of ``webhook-id``s held in this process.

    Ids are kept for ``ttl`` seconds; past ``max_entries`` the oldest is dropped first, so a
    flood of deliveries cannot grow memory without bound. Ids do not survive a restart and are
    not shared between processes; the timestamp tolerance still refuses old replays then.

    Args:
        max_entries: How many ids to keep at most (default 10,000).
        ttl: Seconds to keep each id (default 86,400, one day: longer than the 5-minute
            tolerance and than a Standard Webhooks sender's usual retry schedule).
        clock: Monotonic seconds; tests pass a fake one. Default ``time.monotonic``.

    Raises:
        InvalidArgumentError: ``max_entries`` < 1 or ``ttl`` <= 0.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_REPLAY_MAX_ENTRIES,
        ttl: float = DEFAULT_REPLAY_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise InvalidArgumentError("max_entries", "must be at least 1")
        if ttl <= 0:
            raise InvalidArgumentError("ttl", "must be positive")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        # id -> expiry; insertion order is expiry order, because the ttl is one fixed number.
        self._expiries: OrderedDict[str, float] = OrderedDict()

    def __repr__(self) -> str:
        return f"<InMemoryReplayStore {len(self)}/{self.max_entries} ids, ttl={self.ttl}s>"

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._expiries)

    def __contains__(self, webhook_id: object) -> bool:
        with self._lock:
            self._purge(self._clock())
            return webhook_id in self._expiries

    def claim(self, webhook_id: str) -> bool:
        """Record ``webhook_id``; return False if it is already held (a replay)."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            if webhook_id in self._expiries:
                return False
            self._expiries[webhook_id] = now + self.ttl
            while len(self._expiries) > self.max_entries:
                self._expiries.popitem(last=False)
            return True

    def release(self, webhook_id: str) -> None:
        """Forget ``webhook_id``; a no-op if it is not held."""
        with self._lock:
            self._expiries.pop(webhook_id, None)

    def _purge(self, now: float) -> None:
        while self._expiries:
            oldest, expiry = next(iter(self._expiries.items()))
            if expiry > now:
                return
            del self._expiries[oldest]
