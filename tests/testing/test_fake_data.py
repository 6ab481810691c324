"""The fake's generated data: deterministic, realistic, schema-valid, and lazy for huge jobs."""

from __future__ import annotations

import time
import tracemalloc
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import _fake_spec
import httpx
import pytest

from pleo_export.testing import FakePleo, ManualClock


async def _export_items(fake: FakePleo, job_id: str, version: int, **params: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://pleo") as http:
        response = await http.get(
            f"/v{version}/export-items",
            params={"job_id": job_id, **params},
            auth=("pleo-test-key", ""),
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _walk_amounts(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [node["value"]] if set(node) == {"currency", "value"} else []
        return found + [v for child in node.values() for v in _walk_amounts(child)]
    if isinstance(node, list):
        return [v for child in node for v in _walk_amounts(child)]
    return []


async def test_same_seed_gives_the_same_data() -> None:
    """Two fakes with the same seed, calls and clock reading produce identical ids and export
    items (signed file URLs carry their expiry, so the clock is pinned: two fakes a second apart
    would rightly differ there and nowhere else)."""
    pages = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(2):
        fake = FakePleo(seed=42, clock=ManualClock(start))
        job_id = fake.add_job(items=30, vendor_based_bookkeeping=True)
        pages.append((job_id, await _export_items(fake, job_id, 3, limit=30)))
    assert pages[0] == pages[1]


async def test_different_seeds_give_different_data() -> None:
    """Another seed gives other ids and other items."""
    first, second = FakePleo(seed=1), FakePleo(seed=2)
    assert first.add_job(items=1) != second.add_job(items=1)


def test_items_do_not_depend_on_the_clock_or_the_order_of_reads() -> None:
    """An export item is a function of seed and entry, not of when or in which order it is read."""
    fake = FakePleo(seed=3)
    job_id = fake.add_job(items=5)
    ids = fake.accounting_entry_ids(job_id)
    forward = [fake.export_item(job_id, i) for i in ids]
    backward = [fake.export_item(job_id, i) for i in reversed(ids)]
    assert forward == backward[::-1]


@pytest.mark.parametrize("version", [2, 3])
async def test_generated_items_match_the_contract(version: int) -> None:
    """A few hundred generated items, vendor-based or not, validate against the spec's schema."""
    check = _fake_spec.validator(f"ExportItemV{version}")
    fake = FakePleo(seed=5)
    for company_country, vendor_based in (("DK", False), ("GB", True), ("SE", False)):
        company = fake.add_company(country=company_country)
        job_id = fake.add_job(company, items=150, vendor_based_bookkeeping=vendor_based)
        for item in (await _export_items(fake, job_id, version, limit=150))["data"]:
            errors = sorted(check.iter_errors(item), key=str)
            assert not errors, f"{item['type']}: {errors[0]}"


async def test_items_cover_types_currencies_and_field_groups() -> None:
    """Items mix types, currencies and every optional field group, with amounts in minor units."""
    fake = FakePleo(seed=9)
    job_id = fake.add_job(fake.add_company(country="DK"), items=400, vendor_based_bookkeeping=True)
    items = (await _export_items(fake, job_id, 3, limit=400))["data"]
    types = Counter(item["type"] for item in items)
    assert len(types) >= 12
    assert {"card_purchase", "invoice", "out_of_pocket", "mileage", "fee"} <= set(types)
    assert len({item["amount"]["inSupplierCurrency"]["currency"] for item in items}) >= 3
    assert {item["amount"]["inWalletCurrency"]["currency"] for item in items} == {"DKK"}
    assert all(isinstance(value, int) for value in _walk_amounts(items))
    info = [item["additionalInformation"] for item in items]
    assert all(i["reconciliationId"] for i in info)
    assert any(i["invoiceInformation"] for i in info)
    assert any(i["attendees"] for i in info)
    assert any(i["reconciledEntries"] for i in info)
    assert any(item["servicePeriod"] for item in items)
    assert any(item["files"] for item in items)
    assert any(item["contraAccount"] for item in items)
    assert any(item["subType"] for item in items)
    lines = [line for item in items for line in item["accountingEntryLines"]]
    assert any(line["tags"] for line in lines)
    assert any(line["tax"] and line["tax"].get("ingoingTaxAccount") for line in lines)
    methods = Counter((item["bookkeeping"] or {}).get("method") for item in items)
    assert {"journal", "accounts_payable", "none", None} <= set(methods)
    vendors = [item["vendor"] for item in items if item["vendor"]]
    for item in items:
        if (item["bookkeeping"] or {}).get("method") == "accounts_payable":
            assert item["vendor"]["name"]
    # Vendors with and without codes (an ERP then matches by account or tax id).
    assert any(vendor.get("code") for vendor in vendors)
    assert any("code" not in vendor for vendor in vendors)
    # Each tax type, and supplier currencies with 0, 2 and 3 decimals.
    assert {line["tax"]["type"] for line in lines if line["tax"]} == {
        "inclusive",
        "exclusive",
        "reverse",
    }
    supplier = {item["amount"]["inSupplierCurrency"]["currency"] for item in items}
    assert {"JPY", "KWD", "USD", "DKK"} <= supplier
    assert any(len(item["accountingEntryLines"]) > 1 for item in items)
    assert any(
        item["type"] == "refund" and item["amount"]["inWalletCurrency"]["value"] < 0
        for item in items
    )


async def test_amounts_add_up() -> None:
    """Line amounts sum to the item amount, and net plus inclusive tax equals the line amount."""
    fake = FakePleo(seed=11)
    job_id = fake.add_job(items=200)
    for item in (await _export_items(fake, job_id, 3, limit=200))["data"]:
        for side in ("inSupplierCurrency", "inWalletCurrency"):
            lines = item["accountingEntryLines"]
            assert (
                sum(line["lineAmount"][side]["value"] for line in lines)
                == item["amount"][side]["value"]
            )
            for line in lines:
                tax = line["tax"]
                if tax and tax["type"] == "inclusive":
                    net, tax_value = line["netAmount"][side]["value"], tax["amount"][side]["value"]
                    assert net + tax_value == line["lineAmount"][side]["value"]


async def test_v2_and_v3_shapes_differ_as_pleo_documents() -> None:
    """v3 has contraAccount and tax accounts but no teamCode; v2 the reverse."""
    fake = FakePleo(seed=13)
    job_id = fake.add_job(items=100)
    v2 = (await _export_items(fake, job_id, 2, limit=100))["data"]
    v3 = (await _export_items(fake, job_id, 3, limit=100))["data"]
    assert [i["accountingEntryId"] for i in v2] == [i["accountingEntryId"] for i in v3]
    assert all("teamCode" in item and "contraAccount" not in item for item in v2)
    assert all("teamCode" not in item and "contraAccount" in item for item in v3)
    v2_taxes = [line["tax"] for item in v2 for line in item["accountingEntryLines"] if line["tax"]]
    assert not any("ingoingTaxAccount" in tax for tax in v2_taxes)


def test_entry_ids_are_uuids_that_encode_the_index() -> None:
    """Seeded entry ids are valid version-4 UUIDs whose last group is the item index."""
    fake = FakePleo(seed=17)
    job_id = fake.add_job(items=1_000_000)
    last = fake.accounting_entry_ids(job_id, 999_999)[0]
    parsed = uuid.UUID(last)
    assert parsed.version == 4
    assert int(last.split("-")[-1], 16) == 999_999
    assert fake.item(job_id, last)["status"] == "pending"


async def test_million_item_job_serves_its_last_pages_lazily(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A 1,000,000-item job serves pages near its end quickly without building all items."""
    tracemalloc.start()
    started = time.perf_counter()
    job_id = fake_pleo.add_job(items=1_000_000, status="in_progress")
    ids = fake_pleo.accounting_entry_ids(job_id, 999_900)
    update = [{"accountingEntryId": ids[-1], "status": "successful"}]
    assert (await client.put(f"/v3/export-jobs/{job_id}/items", json=update)).status_code == 200
    items = await client.get(
        f"/v3/export-jobs/{job_id}/items", params={"offset": 999_900, "limit": 100}
    )
    tail = await client.get(
        "/v3/export-items", params={"job_id": job_id, "offset": 999_950, "limit": 50}
    )
    pending = await client.get(
        f"/v3/export-jobs/{job_id}/items",
        params={"status": "pending", "offset": 999_990, "limit": 50},
    )
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [i["accountingEntryId"] for i in items.json()["data"]] == ids
    assert items.json()["data"][-1]["status"] == "successful"
    assert len(tail.json()["data"]) == 50
    assert tail.json()["pagination"]["hasNextPage"] is False
    assert len(pending.json()["data"]) == 9
    assert pending.json()["pagination"]["total"] == 999_999
    assert peak < 20_000_000, f"peak {peak} bytes"
    assert elapsed < 5
