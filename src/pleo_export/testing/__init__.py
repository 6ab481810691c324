"""A stateful fake of Pleo's Export API (v2 and v3), for tests, benchmarks and demos.

``FakePleo`` keeps companies, jobs and item statuses in memory, applies Pleo's rules (the job
state machine, one running job per company, the 100-item update limit, expiry, 404/409/413/422
errors), generates realistic export items on demand from a seed, and injects faults on request.
It shares no code with the SDK on purpose: it is the independent second reading of Pleo's
rules that the SDK is tested against. Install it with the ``testing`` extra.

In-process::

    fake = FakePleo(seed=1)
    job_id = fake.add_job(items=250)
    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://pleo") as http:
        await http.get(f"/v3/export-jobs/{job_id}", auth=(DEFAULT_API_KEY, ""))

Over loopback TCP (``with`` or ``async with``; the value is ``http://127.0.0.1:<port>``)::

    with fake.serve() as base_url:
        ...

Faults, per route and rate, switchable at runtime and counted::

    rule = fake.faults.add("status", status=503, rate=0.1, route="updateExportJobItemsV3")
    rule.enabled = False
    fake.faults.counts  # {"status": 3}

Files: each export item's ``files`` point at ``<base URL>/files/…`` on the same server, signed
to expire 24 h (``FILE_URL_TTL``) after the listing by the fake's clock; ``fake.file_content(url)``
gives the bytes served and ``fake.file_requests`` the headers each download carried.

Credentials: API key ``pleo-test-key`` over HTTP Basic (empty password) or bearer token
``pleo-test-token``; change them with ``FakePleo(api_keys=..., bearer_tokens=...)`` or at
runtime through ``fake.credentials``. Pages hold 20 items unless ``limit`` says otherwise, at
most 1000. From the command line: ``python -m pleo_export.testing --port 8080``. The pytest
plugin (``pleo_export.testing.pytest_plugin``) provides the ``fake_pleo`` fixtures.
"""

import typing as _typing

#: Modules the ``testing`` extra installs; without them the names below are unavailable.
_EXTRA_MODULES = frozenset({"starlette", "uvicorn"})
_missing: str | None = None

try:
    from pleo_export.testing._asgi import ASGIApp
    from pleo_export.testing._auth import Credentials
    from pleo_export.testing._clock import Clock, ManualClock
    from pleo_export.testing._events import EventRecord
    from pleo_export.testing._fake import FakePleo
    from pleo_export.testing._faults import FAULT_KINDS, FaultKind, FaultRule, Faults
    from pleo_export.testing._files import FILE_URL_TTL, FileRequest
    from pleo_export.testing._layer import (
        UNKNOWN_ITEM_STATUS,
        UNKNOWN_ITEM_TYPE,
        UNKNOWN_JOB_STATUS,
    )
    from pleo_export.testing._rules import (
        DEFAULT_API_KEY,
        DEFAULT_BEARER_TOKEN,
        DEFAULT_EXPIRES_IN,
        DEFAULT_PAGE_LIMIT,
        MAX_ITEMS_PER_UPDATE,
        MAX_PAGE_LIMIT,
    )
    from pleo_export.testing._server import FakePleoServer
    from pleo_export.testing._transport import FakeTransport
    from pleo_export.testing._webhooks import (
        DEFAULT_WEBHOOK_SECRET,
        DeliveryOptions,
        WebhookDeliveries,
        WebhookDelivery,
    )
except ModuleNotFoundError as exc:
    # Importing the package must still work without the extra: the pytest plugin lives in it
    # and pytest loads it for every test run of every project that installed pleo-export.
    if (exc.name or "").partition(".")[0] not in _EXTRA_MODULES:
        raise
    _missing = exc.name

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_BEARER_TOKEN",
    "DEFAULT_EXPIRES_IN",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_WEBHOOK_SECRET",
    "FAULT_KINDS",
    "FILE_URL_TTL",
    "MAX_ITEMS_PER_UPDATE",
    "MAX_PAGE_LIMIT",
    "UNKNOWN_ITEM_STATUS",
    "UNKNOWN_ITEM_TYPE",
    "UNKNOWN_JOB_STATUS",
    "ASGIApp",
    "Clock",
    "Credentials",
    "DeliveryOptions",
    "EventRecord",
    "FakePleo",
    "FakePleoServer",
    "FakeTransport",
    "FaultKind",
    "FaultRule",
    "Faults",
    "FileRequest",
    "ManualClock",
    "WebhookDeliveries",
    "WebhookDelivery",
]


if not _typing.TYPE_CHECKING:  # hidden from type checkers, which should still flag unknown names

    def __getattr__(name: str) -> object:
        """Name the missing extra when a fake's name is asked for without it installed."""
        if _missing is not None and name in __all__:
            raise ModuleNotFoundError(
                f"pleo_export.testing.{name} needs the testing extra ({_missing} is missing): "
                "pip install 'pleo-export[testing]'",
                name=_missing,
            )
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if _missing is None:
    for _name in __all__:
        _obj = globals()[_name]
        if isinstance(_obj, type):
            _obj.__module__ = __name__
    del _name, _obj
