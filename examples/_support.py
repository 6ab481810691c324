"""Where the examples find a Pleo to talk to: an embedded fake by default, or a real server.

* no server options: start ``pleo_export.testing.FakePleo`` on 127.0.0.1 inside the process and
  seed it (nothing leaves the machine, no credentials needed);
* ``--base-url URL`` (or ``PLEO_BASE_URL``): any server, e.g. ``pleo-export fake-server``, with
  ``--api-key`` / ``PLEO_API_KEY`` / ``PLEO_BEARER_TOKEN``;
* ``--live``: Pleo itself, as ``PleoExport()`` resolves it from ``PLEO_ENVIRONMENT`` and the
  credentials in the environment. Examples that change jobs ask for this on purpose, so a key
  left in your shell never makes an example touch real jobs by accident.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from pleo_export import PleoExport, sync

__all__ = ["SyncTarget", "Target", "add_target_options", "connect", "connect_sync"]


@dataclass
class Target:
    """The client an example uses, and the embedded fake behind it (None for a real server)."""

    pleo: PleoExport
    fake: Any  # pleo_export.testing.FakePleo when embedded; typed loosely so no extra is needed
    base_url: str


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--base-url``, ``--api-key`` and ``--live`` to an example's parser."""
    group = parser.add_argument_group("where to connect (default: an embedded fake server)")
    group.add_argument("--base-url", default=os.environ.get("PLEO_BASE_URL"), metavar="URL")
    group.add_argument("--api-key", metavar="KEY", help="default: $PLEO_API_KEY")
    group.add_argument(
        "--live", action="store_true", help="use Pleo itself ($PLEO_ENVIRONMENT, credentials)"
    )
    group.add_argument("--seed", type=int, default=1, help="seed of the embedded fake's data")


@asynccontextmanager
async def connect(
    args: argparse.Namespace,
    seed: Callable[[Any], None] | None = None,
    **client_options: Any,
) -> AsyncIterator[Target]:
    """Open a client on the target the options name; embedded fakes are seeded by ``seed``.

    Args:
        args: the parsed options (see ``add_target_options``).
        seed: called with the embedded ``FakePleo`` before it serves, to add companies and jobs.
        client_options: passed to ``PleoExport`` (e.g. ``bearer_token=``).
    """
    if args.live or args.base_url:
        if args.api_key:
            client_options.setdefault("api_key", args.api_key)
        if args.base_url:
            client_options.setdefault("base_url", args.base_url)
        async with PleoExport(**client_options) as pleo:
            yield Target(pleo, None, pleo.base_url)
        return

    from pleo_export.testing import DEFAULT_API_KEY, FakePleo  # the [testing] extra

    fake = FakePleo(seed=args.seed)
    if seed is not None:
        seed(fake)
    if not {"api_key", "bearer_token", "auth"} & client_options.keys():
        client_options["api_key"] = DEFAULT_API_KEY
    async with fake.serve() as url, PleoExport(base_url=url, **client_options) as pleo:
        yield Target(pleo, fake, url)


@dataclass
class SyncTarget:
    """What ``connect_sync`` opens: a ``pleo_export.sync`` client and the fake behind it."""

    pleo: sync.PleoExport
    fake: Any
    base_url: str


@contextmanager
def connect_sync(
    args: argparse.Namespace,
    seed: Callable[[Any], None] | None = None,
    **client_options: Any,
) -> Iterator[SyncTarget]:
    """``connect`` for the sync examples: the same targets, a ``pleo_export.sync`` client."""
    if args.live or args.base_url:
        if args.api_key:
            client_options.setdefault("api_key", args.api_key)
        if args.base_url:
            client_options.setdefault("base_url", args.base_url)
        with sync.PleoExport(**client_options) as pleo:
            yield SyncTarget(pleo, None, pleo.base_url)
        return

    from pleo_export.testing import DEFAULT_API_KEY, FakePleo  # the [testing] extra

    fake = FakePleo(seed=args.seed)
    if seed is not None:
        seed(fake)
    client_options.setdefault("api_key", DEFAULT_API_KEY)
    with fake.serve() as url, sync.PleoExport(base_url=url, **client_options) as pleo:
        yield SyncTarget(pleo, fake, url)
