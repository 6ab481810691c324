"""Pleo's request budget: a token bucket every attempt of a client passes before it is sent.

One ``RequestBudget`` per ``PleoExport``, shared by its ``with_options`` views, its export runs
and worker jobs (they all send through the client's seam). Budget to spare costs one
synchronous ``take()``; without it the caller queues (first come, first served) behind one
waiter that sleeps until the next token. A 429 pauses the budget for its ``Retry-After`` and
lowers the rate, which climbs back gradually. Given a coordinator, the budget also takes tokens
in blocks from a bucket in the coordinator's store that every process on the same credential
shares; if that store fails, the process goes on with its own bucket and asks again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from ._auth import ApiKeyAuth, BearerAuth
from ._config import (
    BUDGET_DECREASE,
    BUDGET_FLEET_RETRY,
    BUDGET_MIN_FACTOR,
    BUDGET_RECOVERY_SECONDS,
    BUDGETED_HOSTS,
    DEFAULT_REQUESTS_PER_MINUTE,
    REQUEST_BURST,
    SHARED_BUDGET_BLOCK,
)
from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    import httpx

    from .coordination._types import Coordinator

__all__ = ["RequestBudget", "budget_key", "make_budget"]

logger: Final = logging.getLogger("pleo_export")

#: Seconds between two decreases of the rate: the 429s of calls already in flight together
#: lower it once, not once each.
_DECREASE_INTERVAL: Final = 1.0
#: Salt of the budget key, so the key of a credential is not the plain hash of that secret.
_KEY_SALT: Final = b"pleo-export request budget v1\0"


class RequestBudget:
    """A token bucket of ``requests_per_minute`` with room for ``burst`` requests at once.

    ``take()`` spends a token if one is free now; otherwise ``await wait()`` queues for one.
    ``throttled()`` reports a 429. With ``coordinator``, every token is also taken, in blocks,
    from the coordinator's shared bucket ``key`` (see ``Coordinator.take_tokens``).

    Args:
        requests_per_minute: the budget; a positive number.
        burst: the bucket's size (default 10).
        coordinator: a coordinator whose store shares the budget between processes.
        key: the shared bucket's name (with ``coordinator``): see ``budget_key``.
        clock: seconds, monotonic (tests pass a manual one).
        sleep: how to wait (tests pass one that moves their clock).
    """

    def __init__(
        self,
        requests_per_minute: float,
        *,
        burst: int = REQUEST_BURST,
        coordinator: Coordinator | None = None,
        key: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.requests_per_minute = check_rate(requests_per_minute)
        self.burst = burst
        self._rate = self.requests_per_minute / 60.0  # tokens a second, before any decrease
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._paused_until = 0.0
        #: The rate factor set by the last decrease and when; 1.0: not lowered.
        self._lowered_to = 1.0
        self._lowered_at = -math.inf
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._coordinator = coordinator
        self._key = key
        #: Tokens taken from the shared bucket and not yet spent.
        self._stash = 0
        #: A 429's pause still to be written to the shared bucket, as a time on ``clock``.
        self._shared_pause_until = 0.0
        #: While the coordinator is failing, the time to ask it again.
        self._fleet_down_until = -math.inf
        #: Counters for metrics and tests: 429s reported, waits in the queue, blocks asked of
        #: the shared store.
        self.throttled_count = 0
        self.waits = 0
        self.store_calls = 0

    def __repr__(self) -> str:
        shared = "" if self._coordinator is None else ", shared"
        return f"RequestBudget(requests_per_minute={self.requests_per_minute:g}{shared})"

    @property
    def shared(self) -> bool:
        """Whether the budget is shared with other processes through a coordinator."""
        return self._coordinator is not None

    def rate_factor(self) -> float:
        """The fraction of ``requests_per_minute`` allowed now: below 1 after a 429."""
        if self._lowered_to >= 1.0:
            return 1.0
        factor = self._lowered_to + (self._clock() - self._lowered_at) * _RECOVERY_SLOPE
        if factor >= 1.0:
            self._lowered_to = 1.0
            return 1.0
        return factor

    def take(self) -> bool:
        """Spend a token if one is free now and nobody queues; False: ``await wait()``."""
        lock = self._lock
        if lock is not None and lock.locked():
            return False  # others queue: first come, first served
        now = self._clock()
        if now < self._paused_until:
            return False
        rate = self._rate if self._lowered_to >= 1.0 else self._rate * self.rate_factor()
        tokens = self._tokens + (now - self._stamp) * rate
        if tokens > self.burst:
            tokens = self.burst
        self._stamp = now
        if tokens < 1.0 or (
            self._coordinator is not None and self._stash == 0 and now >= self._fleet_down_until
        ):
            self._tokens = tokens
            return False
        self._tokens = tokens - 1.0
        if self._stash:
            self._stash -= 1
        return True

    async def wait(self) -> None:
        """Queue until a token is free and spend it; a cancelled waiter spends none."""
        self.waits += 1
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                rate = self._rate * self.rate_factor()
                tokens = min(float(self.burst), self._tokens + (now - self._stamp) * rate)
                self._tokens, self._stamp = tokens, now
                if tokens < 1.0:
                    await self._sleep((1.0 - tokens) / rate)
                    continue
                if (
                    self._coordinator is not None
                    and self._stash == 0
                    and now >= self._fleet_down_until
                ):
                    wait = await self._from_fleet(now, rate)
                    if wait > 0:
                        await self._sleep(wait)
                    continue  # time passed: look again (a 429 may have come meanwhile)
                self._tokens -= 1.0
                if self._stash:
                    self._stash -= 1
                return

    def throttled(self, retry_after: float | None) -> None:
        """A 429: pause every caller for ``retry_after`` seconds and lower the rate."""
        self.throttled_count += 1
        now = self._clock()
        if retry_after is not None and retry_after > 0:
            self._paused_until = max(self._paused_until, now + retry_after)
            if self._coordinator is not None:
                self._shared_pause_until = max(self._shared_pause_until, now + retry_after)
        if self._coordinator is not None:
            # Tokens of the shared bucket are spent after the pause; the next request asks the
            # coordinator again, which passes the pause on to the other processes.
            self._stash = 0
        if now - self._lowered_at >= _DECREASE_INTERVAL:
            self._lowered_to = max(BUDGET_MIN_FACTOR, self.rate_factor() * BUDGET_DECREASE)
            self._lowered_at = now
            logger.info(
                "Pleo answered 429: request budget lowered to %.0f per minute",
                self.requests_per_minute * self._lowered_to,
            )

    async def _from_fleet(self, now: float, rate: float) -> float:
        """Take a block from the shared bucket; the seconds to wait when it had none.

        If the coordinator fails, go on with the local bucket alone (a warning says so) and ask
        again after ``BUDGET_FLEET_RETRY`` seconds: the budget never stops the client for good.
        """
        assert self._coordinator is not None
        assert self._key is not None
        block = max(1, min(SHARED_BUDGET_BLOCK, self.burst, int(rate)))
        pause = max(0.0, self._shared_pause_until - now)
        self.store_calls += 1
        try:
            grant = await self._coordinator.take_tokens(
                self._key, count=block, rate=rate, capacity=max(self.burst, block), pause=pause
            )
        except Exception as exc:  # any store failure: never let the budget stop requests
            if self._fleet_down_until == -math.inf:
                logger.warning(
                    "the shared request budget is unavailable (%s); using this process's own "
                    "budget, asking again in %g s",
                    type(exc).__name__,
                    BUDGET_FLEET_RETRY,
                )
            self._fleet_down_until = self._clock() + BUDGET_FLEET_RETRY
            return 0.0
        if self._fleet_down_until != -math.inf:
            logger.warning("the shared request budget is available again")
            self._fleet_down_until = -math.inf
        self._shared_pause_until = 0.0
        if not grant.granted:  # a pause: ask again once it is over
            return max(grant.wait, 1e-3)
        self._stash += grant.granted
        if grant.wait > 0:  # reserved: spendable once the shared bucket is back at zero
            await self._sleep(grant.wait)
        return 0.0


#: How fast a lowered rate climbs back: one halving undone in ``BUDGET_RECOVERY_SECONDS``.
_RECOVERY_SLOPE: Final = (1.0 - BUDGET_DECREASE) / BUDGET_RECOVERY_SECONDS


def check_rate(value: object, argument: str = "requests_per_minute") -> float:
    """Return ``value`` if it is a finite number > 0 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(
            argument, f"expected a number of requests, got {type(value).__name__}"
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError(argument, f"must be a finite number > 0, got {value!r}")
    return float(value)


def budget_key(base_url: str, credential: str) -> str:
    """The shared bucket's key for a credential at a base URL: a salted SHA-256, so the store
    never holds (nor lets anyone recover) the credential itself."""
    digest = hashlib.sha256(_KEY_SALT)
    digest.update(base_url.rstrip("/").encode())
    digest.update(b"\0")
    digest.update(credential.encode())
    return digest.hexdigest()


def make_budget(
    requests_per_minute: object,
    *,
    base_url: str,
    auth: httpx.Auth | None,
    shared_budget: Coordinator | None,
    budget_key_name: str | None,
) -> RequestBudget | None:
    """The client's budget: ``requests_per_minute`` (None: off), or for ``"auto"`` 500 for
    Pleo's hosts and none elsewhere; shared through ``shared_budget`` when one is given.

    Raises:
        InvalidArgumentError: a bad rate, a ``shared_budget`` without a budget, or a credential
            that names no shared bucket (a callable token, custom auth) and no ``budget_key``.
    """
    import httpx

    rate: float | None
    if requests_per_minute == "auto":
        host = httpx.URL(base_url).host
        rate = DEFAULT_REQUESTS_PER_MINUTE if host in BUDGETED_HOSTS else None
    else:
        rate = None if requests_per_minute is None else check_rate(requests_per_minute)
    if rate is None:
        if shared_budget is not None:
            raise InvalidArgumentError(
                "shared_budget", "needs a budget: pass requests_per_minute as well"
            )
        return None
    if shared_budget is None:
        return RequestBudget(rate)
    if not callable(getattr(shared_budget, "take_tokens", None)):
        raise InvalidArgumentError("shared_budget", "expected a coordinator with take_tokens()")
    if budget_key_name is not None:
        if not isinstance(budget_key_name, str) or not budget_key_name:
            raise InvalidArgumentError("budget_key", "must be a non-empty string")
        key = budget_key(base_url, budget_key_name)
    else:
        credential = _static_credential(auth)
        if credential is None:
            raise InvalidArgumentError(
                "budget_key",
                "the credential is a token callable or custom auth, which names no shared "
                "budget: pass budget_key= (any stable name for the credential)",
            )
        key = budget_key(base_url, credential)
    return RequestBudget(rate, coordinator=shared_budget, key=key)


def _static_credential(auth: httpx.Auth | None) -> str | None:
    """A fingerprint of the API key or static bearer token, else None."""
    if isinstance(auth, ApiKeyAuth | BearerAuth):
        return auth.fingerprint()
    return None
