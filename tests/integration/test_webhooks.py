"""Webhooks end to end on 127.0.0.1: the endpoint served by uvicorn, the fake delivering signed
``v1.export-job.created`` webhooks to it (over HTTP and in-process), and a worker woken by them."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn

import pleo_export
from pleo_export import Booked, ExportWorker, PleoExport, WorkItem
from pleo_export.models import ExportItemV2, ExportItemV3, ExportJobItem, ExportJobItemV3
from pleo_export.testing import DEFAULT_API_KEY, DEFAULT_WEBHOOK_SECRET, FakePleo
from pleo_export.webhooks import (
    EXPORT_JOB_CREATED,
    WebhookEndpoint,
    WebhookEvent,
    sign_webhook,
    verify_and_parse,
)

#: Every wait below is bounded; the whole file runs in well under a second when healthy.
WAIT = 10.0


class Worker:
    """Records the job ids it is asked to look at."""

    def __init__(self) -> None:
        self.notified: list[str] = []

    async def notify(self, job_id: str) -> None:
        """Record ``job_id``."""
        self.notified.append(job_id)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) on this test's own event loop.

    Running in the test's loop, not a thread, lets the endpoint wake a worker on the same loop.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)
        sock.close()


async def until(condition: Callable[[], bool]) -> None:
    """Return once ``condition()`` holds, checking every 10 ms (bound it with asyncio.timeout)."""
    while True:
        if condition():
            return
        await asyncio.sleep(0.01)


def signed_now(job_id: str, webhook_id: str) -> tuple[dict[str, str], bytes]:
    """A documented export-job-created delivery for ``job_id``, signed with the fake's secret."""
    document = {
        "data": {"id": job_id, "companyId": str(uuid.uuid4()), "status": "pending"},
        "eventId": str(uuid.uuid4()),
        "eventType": "v1.export-job.created",
    }
    body = json.dumps(document).encode()
    return sign_webhook(body, DEFAULT_WEBHOOK_SECRET, webhook_id=webhook_id), body


async def test_endpoint_answers_over_loopback_http() -> None:
    """Served by uvicorn, the endpoint answers 204, 401, 400 and 405 to real HTTP requests."""
    worker = Worker()
    endpoint = WebhookEndpoint(DEFAULT_WEBHOOK_SECRET, worker=worker)
    job_id = str(uuid.uuid4())
    headers, body = signed_now(job_id, "msg_loopback")
    async with serve(endpoint) as url, httpx.AsyncClient(base_url=url) as client:
        accepted = await client.post("/pleo/webhooks", content=body, headers=headers)
        replayed = await client.post("/pleo/webhooks", content=body, headers=headers)
        forged = await client.post("/pleo/webhooks", content=body + b" ", headers=headers)
        headerless = await client.post("/pleo/webhooks", content=body)
        fetched = await client.get("/pleo/webhooks")
        await endpoint.drain()
    assert [r.status_code for r in (accepted, replayed, forged, headerless, fetched)] == [
        204,
        204,
        401,
        400,
        405,
    ]
    assert forged.text == "Unauthorized"
    assert worker.notified == [job_id]


async def test_fake_delivers_over_http_when_a_job_is_created_through_the_api(
    fake_pleo: FakePleo, fake_pleo_server: str
) -> None:
    """A job created with the SDK over TCP makes the fake POST a signed event to the endpoint."""
    events: list[WebhookEvent] = []
    endpoint = WebhookEndpoint(DEFAULT_WEBHOOK_SECRET, on_event=events.append)
    company_id = fake_pleo.add_company()
    async with serve(endpoint) as url:
        deliveries = fake_pleo.deliver_webhooks(f"{url}/pleo/webhooks")
        async with PleoExport(api_key=DEFAULT_API_KEY, base_url=fake_pleo_server) as pleo:
            job = await pleo.jobs.create(company_id=company_id, accounting_entry_ids=[uuid.uuid4()])
        async with asyncio.timeout(WAIT):
            (sent,) = await deliveries.wait(1)
        await deliveries.aclose()
    assert sent.ok
    assert sent.status_code == 204
    (event,) = events
    assert event.event_type == EXPORT_JOB_CREATED
    assert event.webhook_id == sent.webhook_id
    assert event.job is not None
    assert event.job.id == str(job.id)
    assert event.job.company_id == company_id
    assert event.job.status == "pending"
    assert event.job.number_of_items == 1
    snapshot = fake_pleo.job(event.job.id)
    assert set(event.data) == {
        "id",
        "companyId",
        "createdAt",
        "createdBy",
        "expiresIn",
        "numberOfItems",
        "status",
    }
    assert event.data == {key: snapshot[key] for key in event.data}


async def test_fake_delivers_in_process_to_an_asgi_app(fake_pleo: FakePleo) -> None:
    """With ``app=`` the fake calls the endpoint in-process and the worker is woken."""
    worker = Worker()
    endpoint = WebhookEndpoint(DEFAULT_WEBHOOK_SECRET, worker=worker)
    deliveries = fake_pleo.deliver_webhooks(app=endpoint, path="/pleo/webhooks")
    job_ids = [fake_pleo.add_job(items=2) for _ in range(3)]
    async with asyncio.timeout(WAIT):
        sent = await deliveries.wait(3)
    await endpoint.drain()
    await deliveries.aclose()
    assert [delivery.status_code for delivery in sent] == [204, 204, 204]
    assert sorted(worker.notified) == sorted(job_ids)
    assert len({delivery.webhook_id for delivery in sent}) == 3


async def test_fake_signs_with_the_configured_secret(fake_pleo: FakePleo) -> None:
    """A callback receives headers and body that verify with the secret the fake was given."""
    secret = "whsec_" + "c2VjcmV0LWZvci10aGlzLXRlc3Qtb25seS0xMjM0NTY="
    received: list[tuple[dict[str, str], bytes]] = []
    deliveries = fake_pleo.deliver_webhooks(
        callback=lambda headers, body: received.append((headers, body)), secret=secret
    )
    job_id = fake_pleo.add_job(items=1)
    async with asyncio.timeout(WAIT):
        await deliveries.wait(1)
    await deliveries.aclose()
    ((headers, body),) = received
    event = verify_and_parse(headers, body, secret)
    assert event.job is not None
    assert event.job.id == job_id
    assert headers["webhook-id"].startswith("msg_")
    assert abs(event.timestamp - datetime.now(UTC)).total_seconds() < WAIT
    with pytest.raises(pleo_export.webhooks.WebhookSignatureError):
        verify_and_parse(headers, body, DEFAULT_WEBHOOK_SECRET)


async def test_fake_retries_until_acknowledged(fake_pleo: FakePleo) -> None:
    """A 500 from the endpoint makes the fake retry with the same id, which is then handled."""
    worker = Worker()
    attempts: list[str] = []

    def on_event(event: WebhookEvent) -> None:
        attempts.append(event.webhook_id)
        if len(attempts) == 1:
            raise RuntimeError("queue briefly unavailable")

    endpoint = WebhookEndpoint(DEFAULT_WEBHOOK_SECRET, on_event=on_event, worker=worker)
    deliveries = fake_pleo.deliver_webhooks(app=endpoint, retry_delays=(0.01, 0.01))
    job_id = fake_pleo.add_job(items=1)
    async with asyncio.timeout(WAIT):
        sent = await deliveries.wait(2)
    await endpoint.drain()
    await deliveries.aclose()
    assert [(d.attempt, d.status_code) for d in sent] == [(1, 500), (2, 204)]
    assert sent[0].webhook_id == sent[1].webhook_id == attempts[0] == attempts[1]
    assert worker.notified == [job_id]


async def test_fake_redelivery_is_acknowledged_but_not_acted_on(fake_pleo: FakePleo) -> None:
    """Redelivering an accepted webhook answers 204 and does not wake the worker again."""
    worker = Worker()
    endpoint = WebhookEndpoint(DEFAULT_WEBHOOK_SECRET, worker=worker)
    deliveries = fake_pleo.deliver_webhooks(app=endpoint)
    job_id = fake_pleo.add_job(items=1)
    async with asyncio.timeout(WAIT):
        (first,) = await deliveries.wait(1)
        deliveries.redeliver(first.webhook_id)
        sent = await deliveries.wait(2)
    await endpoint.drain()
    await deliveries.aclose()
    assert [d.status_code for d in sent] == [204, 204]
    assert sent[1].webhook_id == first.webhook_id
    assert worker.notified == [job_id]


def test_fake_delivers_from_a_background_thread_outside_any_loop() -> None:
    """Configured outside an event loop, deliveries run on a thread of their own."""
    fake = FakePleo(seed=5)
    received: list[str] = []
    with fake.deliver_webhooks(
        callback=lambda headers, body: received.append(headers["webhook-id"])
    ) as deliveries:
        fake.add_job(items=1)
        sent = asyncio.run(asyncio.wait_for(deliveries.wait(1), WAIT))
    assert [delivery.webhook_id for delivery in sent] == received
    assert sent[0].status_code == 204


def test_two_subscriptions_get_different_ids() -> None:
    """Two deliveries of one fake draw different webhook ids, so neither looks like a replay."""
    fake = FakePleo(seed=5)
    seen: list[str] = []
    with (
        fake.deliver_webhooks(callback=lambda h, b: seen.append(h["webhook-id"])) as first,
        fake.deliver_webhooks(callback=lambda h, b: seen.append(h["webhook-id"])) as second,
    ):
        fake.add_job(items=1)
        asyncio.run(asyncio.wait_for(first.wait(1), WAIT))
        asyncio.run(asyncio.wait_for(second.wait(1), WAIT))
    assert len(set(seen)) == 2


async def test_webhook_wakes_a_worker_with_a_long_poll_interval(
    fake_pleo: FakePleo, fake_pleo_server: str
) -> None:
    """A job created during the worker's 3600 s poll sleep is exported at once, webhook-woken;
    a worker that only wakes on its poll interval times out here."""
    company_id = fake_pleo.add_company()
    exported: list[str] = []

    def handler(
        work: WorkItem[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2],
    ) -> Booked:
        exported.append(str(work.accounting_entry_id))
        return Booked(external_id=f"JE-{len(exported)}")

    async with PleoExport(api_key=DEFAULT_API_KEY, base_url=fake_pleo_server) as pleo:
        worker = ExportWorker(pleo, handler, company_ids=[company_id], poll_interval=3600)
        endpoint = WebhookEndpoint(DEFAULT_WEBHOOK_SECRET, worker=worker)
        async with serve(endpoint) as url:
            deliveries = fake_pleo.deliver_webhooks(f"{url}/pleo/webhooks")
            running = asyncio.create_task(worker.run())
            try:
                async with asyncio.timeout(WAIT):
                    # After its first (empty) poll the worker sleeps for an hour.
                    await until(lambda: fake_pleo.request_counts["getExportJobsListV3"] > 0)
                    await asyncio.sleep(0.05)
                    job_id = fake_pleo.add_job(company_id, items=3)
                    (sent,) = await deliveries.wait(1)
                    await until(lambda: fake_pleo.job(job_id)["status"] == "completed")
            finally:
                worker.stop()
                await asyncio.wait_for(running, WAIT)
                await deliveries.aclose()
    assert sent.status_code == 204
    assert fake_pleo.item_status_counts(job_id) == {"successful": 3}
    assert sorted(exported) == fake_pleo.accounting_entry_ids(job_id)
