"""The seeded generator of export items (the accounting data of ``GET /vN/export-items``).

An item is a pure function of (seed, company master data, accounting entry id, API version), so
a page of a million-item job is built on demand and never stored. It knows nothing of job or
item status; ``_store`` owns that.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from pleo_export.testing._catalogue import (
    COUNTRIES,
    FOREIGN_CURRENCIES,
    FX_PER_EUR,
    MERCHANTS,
    SUPPLIER_FX_PER_EUR,
    Catalogue,
    TaxCode,
)
from pleo_export.testing._clock import format_timestamp
from pleo_export.testing._ids import seeded_uuid

__all__ = ["build_export_item"]

_TYPE_WEIGHTS = (
    ("card_purchase", 40),
    ("out_of_pocket", 10),
    ("invoice", 10),
    ("invoice_payment", 4),
    ("mileage", 5),
    ("per_diem", 3),
    ("fee", 4),
    ("refund", 4),
    ("cashback", 2),
    ("card_invoice", 2),
    ("atm_withdrawal", 2),
    ("wallet_topup", 3),
    ("wallet_unload", 1),
    ("direct_reimbursement", 4),
    ("external_reimbursement", 2),
    ("chargeback", 1),
    ("personal_spend", 1),
)
_TYPES = tuple(name for name, _ in _TYPE_WEIGHTS)
_CUM_WEIGHTS = tuple(itertools.accumulate(weight for _, weight in _TYPE_WEIGHTS))

_MERCHANT_TYPES = frozenset(
    {"card_purchase", "out_of_pocket", "refund", "cashback", "card_invoice", "chargeback"}
    | {"personal_spend"}
)
_USER_TYPES = _MERCHANT_TYPES | {"mileage", "per_diem", "atm_withdrawal", "direct_reimbursement"}
# Pleo sends a contra account only for types that move money in a Pleo wallet.
_BALANCE_TYPES = frozenset(
    {"card_purchase", "fee", "cashback", "refund", "chargeback", "direct_reimbursement"}
    | {"invoice_payment", "card_invoice", "atm_withdrawal", "personal_spend"}
    | {"wallet_topup", "wallet_unload"}
)
_NEGATIVE_TYPES = frozenset({"refund", "cashback", "chargeback", "wallet_unload"})
_SUBTYPES = {
    "direct_reimbursement": "reimbursement_to_employee",
    "external_reimbursement": "reimbursement_to_company",
    "invoice_payment": "invoice_payment_sent",
}
_RECEIPT_TYPES = frozenset({"card_purchase", "out_of_pocket", "card_invoice", "personal_spend"})
_NOTES = ("Team lunch", "Printer ink", "Client visit", "Conference ticket", "Monthly licence", None)
_BASE_DATE = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
_NINETY_DAYS = 90 * 24 * 3600
_FX = FX_PER_EUR | SUPPLIER_FX_PER_EUR


def _money(currency: str, value: int) -> dict[str, Any]:
    return {"currency": currency, "value": value}


def _pair(supplier_cur: str, supplier: int, wallet_cur: str, wallet: int) -> dict[str, Any]:
    return {
        "inSupplierCurrency": _money(supplier_cur, supplier),
        "inWalletCurrency": _money(wallet_cur, wallet),
    }


def _convert(value: int, source: str, target: str) -> int:
    if source == target:
        return value
    return round(value / _FX[source] * _FX[target])


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    if parts == 1:
        return [total]
    cuts = sorted(rng.sample(range(1, abs(total)), parts - 1)) if abs(total) > parts else []
    bounds = [0, *cuts, abs(total)]
    sign = -1 if total < 0 else 1
    return [sign * (high - low) for low, high in itertools.pairwise(bounds)]


def _tax(
    tax: TaxCode, line: int, cur: str, wallet_line: int, wallet_cur: str, version: int
) -> tuple[dict[str, Any], int, int]:
    """Return the tax object and the net amounts (supplier and wallet currency) of one line.

    The line amount is what was paid. Inclusive: the tax is the part of it the rate gives.
    Exclusive: the net price is the paid amount less the tax added on top of it. Reverse: the
    supplier charged none; the buyer's tax is the rate of the whole line. Net + tax is the line
    amount for inclusive and exclusive, net is the line amount for reverse, exactly.
    """
    if tax.type == "reverse":
        amount, wallet_amount = round(line * tax.rate), round(wallet_line * tax.rate)
        net, wallet_net = line, wallet_line
    elif tax.type == "exclusive":
        net, wallet_net = round(line / (1 + tax.rate)), round(wallet_line / (1 + tax.rate))
        amount, wallet_amount = line - net, wallet_line - wallet_net
    else:
        amount = round(line * tax.rate / (1 + tax.rate))
        wallet_amount = round(wallet_line * tax.rate / (1 + tax.rate))
        net, wallet_net = line - amount, wallet_line - wallet_amount
    body: dict[str, Any] = {
        "id": tax.id,
        "code": tax.code,
        "rate": tax.rate,
        "type": tax.type,
        "amount": _pair(cur, amount, wallet_cur, wallet_amount),
    }
    if version >= 3 and tax.type == "reverse":
        body["ingoingTaxAccount"] = "2710"
        body["outgoingTaxAccount"] = "2720"
    return body, net, wallet_net


def _file(rng: random.Random, *, pdf: bool) -> dict[str, Any]:
    """One ``ExportItemFile`` with a path on the fake's own host (the app signs it into a URL)."""
    path = f"/files/{seeded_uuid(rng)}{'.pdf' if pdf else '.jpg'}"
    rng.getrandbits(64)  # drawn for the former signature, so every later value stays the same
    return {
        "url": path,
        "type": "application/pdf" if pdf else "image/jpeg",
        "size": rng.randrange(4_000, 160_000),
    }


def build_export_item(
    cat: Catalogue, seed: int, accounting_entry_id: str, *, version: int, vendor_based: bool
) -> dict[str, Any]:
    """Build the export item of ``accounting_entry_id`` as the v2 or v3 JSON object.

    Args:
        cat: The master data of the item's company.
        seed: The fake's seed; with the entry id it fixes every value.
        accounting_entry_id: The item's id.
        version: 2 or 3, the API version whose shape to produce.
        vendor_based: Whether the job uses vendor-based bookkeeping (invoices then carry a
            vendor and the ``accounts_payable`` method).

    Returns:
        A JSON-ready dict; amounts are integers in minor units.
    """
    rng = random.Random(f"item|{seed}|{accounting_entry_id}")
    kind = rng.choices(_TYPES, cum_weights=_CUM_WEIGHTS)[0]
    when = _BASE_DATE - timedelta(seconds=rng.randrange(_NINETY_DAYS))
    wallet_cur = cat.currency
    supplier_cur = wallet_cur
    user: dict[str, Any] | None = None
    team: dict[str, Any] | None = None
    if kind in _USER_TYPES:
        user, team = rng.choice(cat.users)
    supplier: dict[str, Any] | None = None
    vendor: dict[str, Any] | None = None
    account: dict[str, Any] | None = None
    tax: TaxCode | None = None
    files: list[dict[str, Any]] | None = None
    invoice: dict[str, Any] | None = None
    period: dict[str, Any] | None = None
    reconciled: list[str] | None = None
    attendees: list[str] | None = None
    note: str | None = None
    method: str | None = "journal"
    lines = 1

    if kind in _MERCHANT_TYPES:
        name, mcc, account_name, home, reduced = rng.choice(MERCHANTS)
        country = home or cat.country
        supplier_cur = FOREIGN_CURRENCIES.get(country) or COUNTRIES.get(country, ("EUR",))[0]
        supplier = {
            "code": str(rng.randrange(10**9, 10**10)),
            "name": name,
            "categoryCode": mcc,
            "country": country,
            "account": None,
            "taxIdentifier": None,
        }
        account = cat.accounts[account_name]
        # Foreign VAT is not reclaimable through the books, so Pleo leaves the tax off; a US
        # merchant's sales tax is added on top of the price (an exclusive tax).
        if country == cat.country:
            tax = cat.reduced_tax if reduced else cat.standard_tax
        elif country == "US":
            tax = cat.sales_tax
        total = rng.randrange(500, 60_000)
        note = rng.choice(_NOTES)
        lines = rng.choice((1, 1, 1, 1, 1, 2, 3))
        if account_name == "Meals and entertainment" and rng.random() < 0.4:
            attendees = [u["name"] for u, _ in rng.sample(cat.users, 2)]
    elif kind in ("invoice", "invoice_payment"):
        chosen = rng.choice(cat.vendors)
        supplier = {
            "code": chosen.get("code"),
            "name": chosen["name"],
            "categoryCode": None,
            "country": cat.country,
            "account": None,
            "taxIdentifier": chosen["taxRegistrationNumber"],
        }
        if vendor_based:
            vendor, method = chosen, "accounts_payable"
        account = cat.accounts[rng.choice(("Consulting services", "Office supplies", "Marketing"))]
        tax = cat.reverse_tax if rng.random() < 0.2 else cat.standard_tax
        total = rng.randrange(10_000, 500_000)
        lines = rng.choice((1, 1, 2))
        issued = when - timedelta(days=rng.randrange(1, 20))
        invoice = {
            "invoiceNumber": f"INV-{rng.randrange(10**5, 10**6)}",
            "invoiceDate": format_timestamp(issued.replace(hour=0, minute=0, second=0)),
            "dueDate": format_timestamp((issued + timedelta(days=30)).replace(hour=0, minute=0)),
            "paymentDate": format_timestamp(when) if kind == "invoice_payment" else None,
            "status": "paid" if kind == "invoice_payment" else "ready",
            "supplierBankAccount": {
                "bankName": "Danske Bank",
                "country": cat.country,
                "accountNumber": str(rng.randrange(10**9, 10**10)),
                "bankCode": None,
                "bic": "DABADKKK",
                "iban": None,
            },
        }
        if kind == "invoice" and rng.random() < 0.4:
            start = when.replace(day=1, hour=0, minute=0, second=0)
            period = {
                "from": format_timestamp(start),
                "to": format_timestamp(start + timedelta(days=29)),
            }
    elif kind in ("mileage", "per_diem"):
        account = cat.accounts["Fuel and mileage" if kind == "mileage" else "Travel"]
        units = rng.randrange(5, 400) if kind == "mileage" else rng.randrange(1, 6)
        unit_price = round((30 if kind == "mileage" else 6_000) * FX_PER_EUR[wallet_cur])
        total = units * unit_price
        note = f"Client visit, {units} km" if kind == "mileage" else f"Per diem, {units} days"
    elif kind == "fee":
        supplier = {"code": None, "name": "Pleo", "categoryCode": None, "country": "DK"}
        supplier |= {"account": None, "taxIdentifier": None}
        account = cat.accounts["Bank fees"]
        total = rng.randrange(2_900, 9_900)
    elif kind == "atm_withdrawal":
        account = cat.accounts["Cash"]
        supplier = {
            "code": None,
            "name": "ATM withdrawal",
            "categoryCode": "6011",
            "country": cat.country,
        }
        supplier |= {"account": None, "taxIdentifier": None}
        total = rng.randrange(2, 20) * 10_000
    elif kind in ("wallet_topup", "wallet_unload"):
        account = cat.accounts["Bank transfers"]
        method = "none"
        total = rng.randrange(1, 50) * 100_000
    else:  # direct_reimbursement, external_reimbursement
        total = rng.randrange(1_000, 200_000)
        reconciled = [seeded_uuid(rng) for _ in range(rng.randrange(1, 4))]

    if kind in _NEGATIVE_TYPES:
        total = -total
    if method == "journal" and rng.random() < 0.03:
        method = None  # legacy entries carry no bookkeeping method at all
    if kind in _RECEIPT_TYPES or kind == "invoice":
        files = [_file(rng, pdf=kind == "invoice") for _ in range(rng.choice((1, 1, 1, 2)))]

    entry_lines = []
    sum_supplier = sum_wallet = 0
    for share in _split(rng, total, lines):
        wallet_share = _convert(share, supplier_cur, wallet_cur)
        sum_supplier += share
        sum_wallet += wallet_share
        line: dict[str, Any] = {
            "accountingEntryLineId": seeded_uuid(rng),
            "lineAmount": _pair(supplier_cur, share, wallet_cur, wallet_share),
            "netAmount": _pair(supplier_cur, share, wallet_cur, wallet_share),
            "account": account,
            "tags": rng.sample(cat.tags, rng.choice((0, 1, 1, 2))) or None,
            "tax": None,
        }
        if tax is not None:
            line["tax"], net, wallet_net = _tax(
                tax, share, supplier_cur, wallet_share, wallet_cur, version
            )
            line["netAmount"] = _pair(supplier_cur, net, wallet_cur, wallet_net)
        entry_lines.append(line)

    item: dict[str, Any] = {
        "_links": {
            "web": {"exportItem": f"https://app.pleo.test/export/items/{accounting_entry_id}"}
        },
        "companyId": cat.company_id,
        "accountingEntryId": accounting_entry_id,
        "type": kind,
        "subType": _SUBTYPES.get(kind),
        "date": format_timestamp(when),
        "amount": _pair(supplier_cur, sum_supplier, wallet_cur, sum_wallet),
        "note": note,
        "files": files,
        "supplier": supplier,
        "user": user,
        "team": team,
        "accountingEntryLines": entry_lines,
        "additionalInformation": {
            "reconciliationId": f"{when:%Y}{rng.randrange(10**6):06d}",
            "attendees": attendees,
            "invoiceInformation": invoice,
            "reconciledEntries": reconciled,
        },
        "bookkeeping": None if method is None else {"method": method},
        "servicePeriod": period,
    }
    if version >= 3:
        item["contraAccount"] = cat.contra_accounts[wallet_cur] if kind in _BALANCE_TYPES else None
        item["vendor"] = vendor
    else:
        # v2 keeps the legacy flat team code, and its vendor schema is not nullable: leave it out.
        item["teamCode"] = team["code"] if team else None
        if vendor is not None:
            item["vendor"] = vendor
    return item
