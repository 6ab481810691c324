"""OAuth: a bearer-token callable that refreshes the access token before it runs out.

    python examples/oauth_refresh.py          # embedded fake; its "token endpoint" rotates tokens
    PLEO_CLIENT_ID=... PLEO_CLIENT_SECRET=... PLEO_REFRESH_TOKEN=... \\
        python examples/oauth_refresh.py --live   # Pleo's OAuth token endpoint
    python examples/oauth_refresh.py --base-url URL   # $PLEO_BEARER_TOKEN, never refreshed

``PleoExport(bearer_token=callable)`` calls the callable before every attempt, retries
included, so a token refreshed mid-run is picked up by the very next request. Pleo issues a new
refresh token with every refresh and the old one stops working: keep the newest (here in
memory; in production, in your secret store) and never refresh twice at once (the lock).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import httpx
from _support import add_target_options, connect

if TYPE_CHECKING:
    from pleo_export.testing import FakePleo

#: Pleo's OAuth token endpoints (see developers.pleo.io, "OAuth 2.0").
TOKEN_URLS = {
    "production": "https://auth.pleo.io/oauth/token",
    "staging": "https://auth.staging.pleo.io/oauth/token",
}
#: Refresh this many seconds before the access token expires.
LEEWAY = 30.0

#: A refresh: returns (access token, lifetime in seconds).
Refresher = Callable[[], Awaitable[tuple[str, float]]]


class RefreshingToken:
    """An async callable for ``PleoExport(bearer_token=...)`` that keeps a token fresh.

    Args:
        refresh: gets a new access token and its lifetime in seconds.
        leeway: refresh this many seconds before expiry.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        refresh: Refresher,
        *,
        leeway: float = LEEWAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refresh = refresh
        self._leeway = leeway
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.refreshes = 0

    async def __call__(self) -> str:
        """Return a valid access token, refreshing first when it is (nearly) expired."""
        async with self._lock:  # one refresh at a time: a refresh token works only once
            if self._token is None or self._clock() >= self._expires_at - self._leeway:
                self._token, lifetime = await self._refresh()
                self._expires_at = self._clock() + lifetime
                self.refreshes += 1
            return self._token

    def __repr__(self) -> str:
        return f"RefreshingToken(refreshes={self.refreshes}, token='[secure]')"


def pleo_refresher(environment: str) -> Refresher:
    """Refresh against Pleo's token endpoint with the client credentials from the environment."""
    state = {"refresh_token": os.environ["PLEO_REFRESH_TOKEN"]}
    client_auth = (os.environ["PLEO_CLIENT_ID"], os.environ["PLEO_CLIENT_SECRET"])

    async def refresh() -> tuple[str, float]:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                TOKEN_URLS[environment],
                data={"grant_type": "refresh_token", "refresh_token": state["refresh_token"]},
                auth=client_auth,
            )
        response.raise_for_status()
        body = response.json()
        state["refresh_token"] = body["refresh_token"]  # the old one is now invalid
        return body["access_token"], float(body["expires_in"])

    return refresh


def fake_refresher(fake: FakePleo, lifetime: float) -> Refresher:
    """A stand-in token endpoint: mint a token, make the fake accept it and drop the old one."""
    current: list[str] = []

    async def refresh() -> tuple[str, float]:
        new = f"access-{secrets.token_hex(8)}"
        if current:
            fake.credentials.rotate_token(current.pop(), new)
        else:
            fake.credentials.add_token(new)
        current.append(new)
        return new, lifetime

    return refresh


def _static(token: str) -> Refresher:
    async def refresh() -> tuple[str, float]:
        return token, float("inf")

    return refresh


async def main() -> None:
    """Make calls across several token lifetimes and show the refreshes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of calls")
    parser.add_argument(
        "--lifetime", type=float, default=0.4, help="embedded fake: token lifetime in seconds"
    )
    args = parser.parse_args()

    holder: dict[str, RefreshingToken] = {}

    async def bearer() -> str:  # the client needs the callable before the fake exists
        return await holder["token"]()

    def seed(fake: FakePleo) -> None:
        fake.add_job(items=20)
        holder["token"] = RefreshingToken(fake_refresher(fake, args.lifetime), leeway=0.1)

    if "PLEO_REFRESH_TOKEN" in os.environ:
        environment = os.environ.get("PLEO_ENVIRONMENT", "production")
        holder["token"] = RefreshingToken(pleo_refresher(environment))
    elif args.live or args.base_url:  # no OAuth client: a static token, e.g. the fake's
        static = os.environ.get("PLEO_BEARER_TOKEN", "pleo-test-token")
        holder["token"] = RefreshingToken(_static(static))

    async with connect(args, seed, bearer_token=bearer) as target:
        for round_ in range(1, args.rounds + 1):
            jobs = [job async for job in target.pleo.jobs.list(max_items=10)]
            print(f"round {round_}: {len(jobs)} job(s) listed, {holder['token']!r}")
            if target.fake is not None and round_ < args.rounds:
                await asyncio.sleep(args.lifetime)  # let the access token run out
        if target.fake is not None:
            assert holder["token"].refreshes == args.rounds, "expected one refresh per round"
            print("every round used a freshly rotated token; the old ones were refused by then")


if __name__ == "__main__":
    asyncio.run(main())
