"""pytest fixtures for the fake Pleo Export API, loaded automatically as the ``pleo_export`` plugin.

Fixtures (each function-scoped, so every test starts from an empty fake):

``fake_pleo_clock``
    A ``ManualClock`` frozen at the start of the test (now, to the second); advance it to make
    jobs expire without sleeping.
``fake_pleo``
    A fresh ``FakePleo`` with seed 0, the default credentials (API key ``pleo-test-key``,
    bearer token ``pleo-test-token``) and ``fake_pleo_clock`` as its clock. No companies or jobs.
``fake_pleo_transport``
    An in-process ``httpx.AsyncBaseTransport`` serving ``fake_pleo``; pass it to
    ``httpx.AsyncClient(transport=..., base_url="http://pleo")``.
``fake_pleo_server``
    ``fake_pleo`` served over loopback TCP for the test; the value is the base URL, e.g.
    ``"http://127.0.0.1:54321"``.

Override ``fake_pleo`` in your ``conftest.py`` to change the seed or credentials; the other
fixtures build on it.

pytest loads this plugin in every project where pleo-export is installed, with or without the
``testing`` extra, so it imports the fake only when a fixture is used: without the extra, the
plugin loads harmlessly and a test asking for a fixture fails with the install line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from pleo_export.testing._clock import ManualClock
    from pleo_export.testing._fake import FakePleo

__all__ = ["fake_pleo", "fake_pleo_clock", "fake_pleo_server", "fake_pleo_transport"]


@pytest.fixture
def fake_pleo_clock() -> ManualClock:
    """A manual clock, frozen until the test advances it."""
    from pleo_export.testing import ManualClock

    return ManualClock()


@pytest.fixture
def fake_pleo(fake_pleo_clock: ManualClock) -> FakePleo:
    """An empty fake Pleo Export API with seed 0 and the default credentials."""
    from pleo_export.testing import FakePleo

    return FakePleo(seed=0, clock=fake_pleo_clock)


@pytest.fixture
def fake_pleo_transport(fake_pleo: FakePleo) -> httpx.AsyncBaseTransport:
    """An in-process httpx transport to ``fake_pleo``."""
    return fake_pleo.transport()


@pytest.fixture
def fake_pleo_server(fake_pleo: FakePleo) -> Iterator[str]:
    """The base URL of ``fake_pleo`` served on 127.0.0.1 for the duration of the test."""
    with fake_pleo.serve() as url:
        yield url
