"""``pleo_export.accounting``: export items as balanced journal entries, rule by rule, and a
property test over the fake's items (every mapped item balances, every refusal has a reason)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pleo_export import Rejected
from pleo_export.accounting import (
    FAILURE_TYPES,
    Journal,
    LedgerAccounts,
    LineKind,
    Unmappable,
    UnmappableReason,
    journal,
)
from pleo_export.models import ExportItemV3, ExportJobItemFailureReasonType
from pleo_export.money import Money
from pleo_export.testing._catalogue import COUNTRIES, build_catalogue
from pleo_export.testing._data import build_export_item

ACCOUNTS = LedgerAccounts(
    employee="2820", payable="2400", bank="1930", input_tax="2640", output_tax="2650"
)
COMPANY = "8f5c6a36-0f44-4b4e-a1a8-5c2b1f9d7e01"


def _item(seed: int, number: int, country: str, vendor_based: bool) -> dict[str, Any]:
    catalogue = build_catalogue(seed, COMPANY, country)
    entry = f"{number:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    return build_export_item(catalogue, seed, entry, version=3, vendor_based=vendor_based)


ITEMS = st.builds(
    _item,
    seed=st.integers(0, 2**16),
    number=st.integers(0, 2**32 - 1),
    country=st.sampled_from(sorted(COUNTRIES)),
    vendor_based=st.booleans(),
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _first(kind: str, *, vendor_based: bool = False) -> dict[str, Any]:
    """The first fake item of ``kind`` (seed 1, DK)."""
    for number in range(5000):
        item = _item(1, number, "DK", vendor_based=vendor_based)
        if item["type"] == kind:
            return item
    raise AssertionError(f"no {kind} item in the fake's first 5000")


def _lines_with_tax(tax_type: str) -> dict[str, Any]:
    for number in range(5000):
        item = _item(1, number, "DK", vendor_based=False)
        if item["type"] == "card_purchase" and any(
            (line["tax"] or {}).get("type") == tax_type for line in item["accountingEntryLines"]
        ):
            return item
    raise AssertionError(tax_type)


def _journal(data: dict[str, Any], accounts: LedgerAccounts = ACCOUNTS) -> Journal:
    entry = journal(ExportItemV3.from_dict(data), accounts)
    assert isinstance(entry, Journal), entry
    return entry


@SETTINGS
@given(data=ITEMS)
def test_every_fake_item_gives_a_balanced_journal(data: dict[str, Any]) -> None:
    """With the ERP's accounts set up, every item of the fake maps, its lines sum to zero in
    minor units, and the debits are at least the item's amount; fails if any rule drops, adds
    or mis-signs an amount (the sum would not be zero) or refuses a well-formed item."""
    item = ExportItemV3.from_dict(data)
    entry = journal(item, ACCOUNTS)
    assert isinstance(entry, Journal), entry
    assert entry.balance == Money(0, entry.currency)
    assert all(line.amount.currency == entry.currency for line in entry.lines)
    assert entry.total.minor >= abs(item.amount.in_wallet_currency.value)
    contra = [line for line in entry.lines if line.kind is LineKind.CONTRA]
    assert len(contra) <= 1


@SETTINGS
@given(data=ITEMS, drop=st.sampled_from(["account", "contra", "ledger"]))
def test_every_refusal_names_its_reason(data: dict[str, Any], drop: str) -> None:
    """With a line's account, the contra account or the ERP's accounts missing, an item either
    still balances or is refused with the reason for what is missing and a failure type Pleo
    knows; fails if a refusal names the wrong reason or a missing account is booked anyway."""
    altered = copy.deepcopy(data)
    accounts = ACCOUNTS
    if drop == "account":
        altered["accountingEntryLines"][0]["account"] = None
    elif drop == "contra":
        altered["contraAccount"] = None
    else:
        accounts = LedgerAccounts()
    entry = journal(ExportItemV3.from_dict(altered), accounts)
    if isinstance(entry, Journal):
        assert not entry.balance
        # What was dropped was not needed: a reimbursement line uses the employee account, a
        # non-wallet item has no contra account, a wallet item with its own accounts needs none.
        return
    expected = {
        "account": {UnmappableReason.MISSING_ACCOUNT},
        "contra": {UnmappableReason.MISSING_CONTRA_ACCOUNT},
        "ledger": {UnmappableReason.MISSING_LEDGER_ACCOUNT, UnmappableReason.MISSING_TAX_ACCOUNT},
    }[drop]
    assert entry.reason in expected
    assert entry.failure_type in {member.value for member in ExportJobItemFailureReasonType}
    assert entry.message


def test_a_card_purchase_with_inclusive_tax() -> None:
    """Expense net and input VAT debited, the wallet's contra account credited the gross;
    fails if the tax is left out or lands on the expense account."""
    data = _lines_with_tax("inclusive")
    entry = _journal(data)
    line = data["accountingEntryLines"][0]
    wallet = lambda amount: amount["inWalletCurrency"]["value"]  # noqa: E731
    expense = entry.lines[0]
    assert (expense.kind, expense.account) == (LineKind.EXPENSE, line["account"]["code"])
    assert expense.debit == wallet(line["netAmount"])
    tax = entry.lines[1]
    assert (tax.kind, tax.account, tax.debit) == (
        LineKind.TAX,
        "2640",
        wallet(line["tax"]["amount"]),
    )
    assert entry.lines[-1].kind is LineKind.CONTRA
    assert entry.lines[-1].account == data["contraAccount"]["code"]
    assert entry.lines[-1].credit == wallet(data["amount"])
    assert {t.code for t in expense.tags} == {t["code"] for t in line["tags"] or []}


def test_exclusive_tax_is_debited_like_inclusive() -> None:
    """Exclusive (sales tax on top): net + tax is the paid line amount; fails if the tax is
    added to the total a second time."""
    entry = _journal(_lines_with_tax("exclusive"))
    assert any(line.kind is LineKind.TAX for line in entry.lines)
    assert not entry.balance


def test_reverse_charge_books_both_sides() -> None:
    """Reverse charge: input VAT debited and output VAT credited with the same amount (the
    tax's own accounts); fails if only one side is booked or the supplier is credited tax."""
    data = _first("invoice")
    for line in data["accountingEntryLines"]:
        line["tax"] = line["tax"] | {"type": "reverse", "ingoingTaxAccount": "2710"}
        line["tax"]["outgoingTaxAccount"] = "2720"
        line["netAmount"] = copy.deepcopy(line["lineAmount"])
    entry = _journal(data)
    tax = [line for line in entry.lines if line.kind is LineKind.TAX]
    output = [line for line in entry.lines if line.kind is LineKind.REVERSE_CHARGE]
    assert {line.account for line in tax} == {"2710"}
    assert {line.account for line in output} == {"2720"}
    assert sum(line.debit for line in tax) == sum(line.credit for line in output) > 0
    assert entry.lines[-1].account == "2400"  # the payable, for the gross without tax
    assert entry.lines[-1].credit == data["amount"]["inWalletCurrency"]["value"]


@pytest.mark.parametrize("sign", [1, -1])
def test_a_refund_credits_the_expense_whatever_its_sign(sign: int) -> None:
    """A refund brings money back: the contra account is debited and the expense credited,
    whether Pleo sends it negative (the fake does) or positive; fails if a positive refund is
    booked as a second purchase."""
    data = _first("refund")
    for amount in _amounts(data):
        amount["value"] = sign * abs(amount["value"])
    entry = _journal(data)
    assert entry.flipped is (sign == 1)
    assert entry.lines[-1].kind is LineKind.CONTRA
    assert entry.lines[-1].debit > 0
    assert entry.lines[0].credit > 0


def test_a_wallet_top_up_debits_the_wallet() -> None:
    """Pleo sends a top-up positive; the wallet (contra) is debited, the bank credited; fails
    if it is booked like a spend."""
    entry = _journal(_first("wallet_topup"))
    assert entry.flipped
    assert entry.lines[-1].kind is LineKind.CONTRA
    assert entry.lines[-1].debit > 0


def test_out_of_pocket_is_owed_to_the_employee() -> None:
    """Fails if an out-of-pocket expense is credited anywhere but the employee account."""
    entry = _journal(_first("out_of_pocket"))
    assert entry.lines[-1].account == "2820"


def test_an_accounts_payable_invoice_payment_settles_the_payable() -> None:
    """With accounts-payable bookkeeping the payment debits the payable (the invoice booked
    the expense and tax); fails if it books the expense and VAT a second time."""
    data = _first("invoice_payment", vendor_based=True)
    entry = _journal(data)
    assert [line.account for line in entry.lines[:-1]] == ["2400"] * len(entry.lines[:-1])
    assert not any(line.kind is LineKind.TAX for line in entry.lines)


@pytest.mark.parametrize(
    ("change", "reason", "failure_type"),
    [
        (lambda d: d.update(contraAccount=None), "missing_contra_account", "missing_configuration"),
        (
            lambda d: d["accountingEntryLines"][0].update(account=None),
            "missing_account",
            "account_unknown",
        ),
        (
            lambda d: d["accountingEntryLines"][0]["netAmount"]["inWalletCurrency"].update(
                value=d["accountingEntryLines"][0]["netAmount"]["inWalletCurrency"]["value"] + 1
            ),
            "inconsistent_amounts",
            "validation_failure",
        ),
        (
            lambda d: d["accountingEntryLines"][0]["lineAmount"]["inWalletCurrency"].update(
                currency="EUR"
            ),
            "bad_currency",
            "validation_failure",
        ),
        (lambda d: _currency(d, "UNDEFINED"), "bad_currency", "validation_failure"),
        (lambda d: d.update(type="crypto_purchase"), "unknown_type", "validation_failure"),
    ],
)
def test_an_unmappable_item_says_why(change: Any, reason: str, failure_type: str) -> None:
    """Each broken item gives its reason and Pleo's failure type, ready for ``Rejected``;
    fails if it is booked anyway or refused for another reason."""
    data = _lines_with_tax("inclusive")
    change(data)
    entry = journal(ExportItemV3.from_dict(data), ACCOUNTS)
    assert isinstance(entry, Unmappable), entry
    assert (entry.reason.value, entry.failure_type) == (reason, failure_type)
    assert entry.rejected() == Rejected(entry.message, reason_type=failure_type)


def test_an_accounts_payable_invoice_needs_a_vendor() -> None:
    """Fails if an AP invoice without a vendor is booked instead of refused ``vendor_unknown``."""
    data = _first("invoice", vendor_based=True)
    data["vendor"] = None
    entry = journal(ExportItemV3.from_dict(data), ACCOUNTS)
    assert isinstance(entry, Unmappable)
    assert entry.failure_type == "vendor_unknown"


def test_every_reason_maps_to_a_pleo_item_failure_type() -> None:
    """Fails if a reason has no failure type or one Pleo's v3 enum does not list."""
    known = {member.value for member in ExportJobItemFailureReasonType}
    assert set(FAILURE_TYPES) == set(UnmappableReason)
    assert set(FAILURE_TYPES.values()) <= known


def _amounts(value: Any) -> list[dict[str, Any]]:
    """Every money object (``{"currency", "value"}``) inside a JSON value."""
    if isinstance(value, list):
        return [m for item in value for m in _amounts(item)]
    if not isinstance(value, dict):
        return []
    if set(value) == {"currency", "value"}:
        return [value]
    return [m for item in value.values() for m in _amounts(item)]


def _currency(data: dict[str, Any], code: str) -> None:
    for amount in _amounts(data):
        amount["currency"] = code
