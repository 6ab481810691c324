"""An export item as the debit and credit lines a ledger books (see ``pleo_export.accounting``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final
from uuid import UUID

from .._currencies import EXPONENTS
from ..money import Money

if TYPE_CHECKING:
    from .._worker import Rejected
    from ..models import (
        AccountV3,
        ContraAccount,
        ExportItemLineV3,
        ExportItemV3,
        MoneyModel,
        TagV3,
        TaxV3,
    )

__all__ = [
    "Journal",
    "JournalLine",
    "LedgerAccounts",
    "LineKind",
    "Unmappable",
    "UnmappableReason",
    "journal",
]

#: Types that move money in a Pleo wallet: their other side is the item's ``contraAccount``
#: (the ERP account of that wallet), which Pleo sends for exactly these (multi-currency guide).
WALLET_TYPES: Final = frozenset(
    {"card_purchase", "card_invoice", "fee", "cashback", "refund", "chargeback"}
    | {"direct_reimbursement", "invoice_payment", "atm_withdrawal", "personal_spend"}
    | {"wallet_topup", "wallet_unload"}
)
#: Spent by an employee with their own money: owed to them until reimbursed.
EMPLOYEE_TYPES: Final = frozenset({"out_of_pocket", "mileage", "per_diem"})
#: Settle what the company owed an employee: a line without its own account is that debt.
REIMBURSEMENT_TYPES: Final = frozenset({"direct_reimbursement", "external_reimbursement"})
#: Money comes back into the wallet whatever sign Pleo gives it: the contra side is a debit.
INTO_WALLET_TYPES: Final = frozenset({"refund", "chargeback", "cashback", "wallet_topup"})
#: Reimbursement sub-types where the employee pays the company back (money in, too).
INTO_WALLET_SUBTYPES: Final = frozenset(
    {"reimbursement_to_company", "reimbursement_to_employee_refund"}
)
#: Money leaves the wallet whatever sign Pleo gives it: the contra side is a credit.
OUT_OF_WALLET_TYPES: Final = frozenset({"wallet_unload"})


class LineKind(StrEnum):
    """What a journal line books."""

    #: An accounting entry line's net amount on its own account (with its tags).
    EXPENSE = "expense"
    #: A tax amount: input VAT of an inclusive or exclusive tax, the input side of reverse charge.
    TAX = "tax"
    #: The output side of a reverse charge (the VAT the buyer owes instead of the supplier).
    REVERSE_CHARGE = "reverse_charge"
    #: The other side of the entry: the wallet's contra account, or a payable or employee account.
    CONTRA = "contra"


class UnmappableReason(StrEnum):
    """Why an item gives no journal; ``Unmappable.failure_type`` is Pleo's item failure type."""

    #: A line has no GL account (``account`` null, or neither code nor identifier).
    MISSING_ACCOUNT = "missing_account"
    #: A wallet item has no ``contraAccount``: Pleo's contra accounts are not set up for its
    #: currency (Pleo's own 400 ``MISSING_CONTRA_ACCOUNTS``).
    MISSING_CONTRA_ACCOUNT = "missing_contra_account"
    #: A tax line has no tax account (neither on the tax nor in ``LedgerAccounts``).
    MISSING_TAX_ACCOUNT = "missing_tax_account"
    #: The item needs an account of ``LedgerAccounts`` that was not given.
    MISSING_LEDGER_ACCOUNT = "missing_ledger_account"
    #: An ``accounts_payable`` invoice without a vendor.
    MISSING_VENDOR = "missing_vendor"
    #: The amounts do not add up (net + tax ≠ line amount, lines ≠ the item's amount).
    INCONSISTENT_AMOUNTS = "inconsistent_amounts"
    #: Wallet amounts in more than one currency, or a currency with no ISO 4217 minor unit.
    BAD_CURRENCY = "bad_currency"
    #: An item type or tax type this SDK has no rule for (Pleo's enums are open).
    UNKNOWN_TYPE = "unknown_type"


#: Each reason's item-level ``failureReasonType`` (ExportJobItemFailureReasonType).
FAILURE_TYPES: Final[dict[UnmappableReason, str]] = {
    UnmappableReason.MISSING_ACCOUNT: "account_unknown",
    UnmappableReason.MISSING_CONTRA_ACCOUNT: "missing_configuration",
    UnmappableReason.MISSING_TAX_ACCOUNT: "tax_code_unknown",
    UnmappableReason.MISSING_LEDGER_ACCOUNT: "missing_configuration",
    UnmappableReason.MISSING_VENDOR: "vendor_unknown",
    UnmappableReason.INCONSISTENT_AMOUNTS: "validation_failure",
    UnmappableReason.BAD_CURRENCY: "validation_failure",
    UnmappableReason.UNKNOWN_TYPE: "validation_failure",
}


@dataclass(frozen=True, slots=True)
class LedgerAccounts:
    """The ERP's own accounts for the sides Pleo does not name (Pleo's accounts-mapping guide:
    the out-of-pocket account, the fallback accounts payable account, …). ``None``: not set up;
    an item that needs it is ``Unmappable`` with ``MISSING_LEDGER_ACCOUNT``.

    Attributes:
        employee: What the company owes its employees (out-of-pocket, mileage, per diem are
            credited to it; reimbursement lines without an account are debited to it).
        payable: Accounts payable (credited by invoices; debited by an ``accounts_payable``
            invoice payment).
        bank: The bank account reimbursements paid outside Pleo come from.
        input_tax: Input VAT, where a tax names no ``ingoingTaxAccount``.
        output_tax: Output VAT of a reverse charge, where it names no ``outgoingTaxAccount``.
    """

    employee: str | None = None
    payable: str | None = None
    bank: str | None = None
    input_tax: str | None = None
    output_tax: str | None = None


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One line of a journal entry: ``amount`` on ``account``, a debit when positive.

    Attributes:
        kind: What the line books.
        account: The account code (Pleo's ``code``, else its ``identifier``).
        amount: Signed, in the wallet currency: positive debits, negative credits.
        tags: The accounting entry line's tags (expense lines only).
        line_id: The accounting entry line it comes from (None for the contra line).
    """

    kind: LineKind
    account: str
    amount: Money
    tags: tuple[TagV3, ...] = ()
    line_id: UUID | None = None

    @property
    def debit(self) -> int:
        """The debit in minor units (0 for a credit)."""
        return max(self.amount.minor, 0)

    @property
    def credit(self) -> int:
        """The credit in minor units (0 for a debit)."""
        return max(-self.amount.minor, 0)


@dataclass(frozen=True, slots=True)
class Journal:
    """The balanced journal entry of one export item: its lines sum to zero exactly.

    Attributes:
        accounting_entry_id: Pleo's id of the entry (the key of job-item updates).
        date: The bookkeeping date.
        currency: The wallet currency every line is in.
        lines: Expense and tax lines, then the contra line(s), zero amounts left out.
        flipped: Whether the signs Pleo sent were reversed to fit the item type (a refund sent
            positive, a top-up: see the rules in ``pleo_export.accounting``).
    """

    accounting_entry_id: UUID
    date: datetime
    currency: str
    lines: tuple[JournalLine, ...]
    flipped: bool = False

    @property
    def balance(self) -> Money:
        """The sum of the lines: always ``Money(0, currency)``."""
        return Money.total((line.amount for line in self.lines), self.currency)

    @property
    def total(self) -> Money:
        """The sum of the debits."""
        return Money(sum(line.debit for line in self.lines), self.currency)


@dataclass(frozen=True, slots=True)
class Unmappable:
    """Why an item gives no journal entry; hand ``rejected()`` back to the worker.

    Attributes:
        reason: What is missing or wrong.
        message: The same in words a bookkeeper can act on in Pleo (bounded).
        line_id: The accounting entry line at fault, when one is.
    """

    reason: UnmappableReason
    message: str
    line_id: UUID | None = None

    @property
    def failure_type(self) -> str:
        """Pleo's item failure type for the reason (``account_unknown``, …)."""
        return FAILURE_TYPES[self.reason]

    def rejected(self) -> Rejected:
        """The worker's ``Rejected`` answer for this item."""
        from .._worker import Rejected

        return Rejected(self.message, reason_type=self.failure_type)


class _Refusal(Exception):
    def __init__(self, reason: UnmappableReason, message: str, line_id: UUID | None = None):
        super().__init__(message)
        self.unmappable = Unmappable(reason, message[:500], line_id)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _code(account: AccountV3 | ContraAccount | object | None) -> str | None:
    if account is None or not hasattr(account, "code"):
        return None
    return _text(account.code) or _text(getattr(account, "identifier", None))


def _needed(accounts: LedgerAccounts, name: str, why: str) -> str:
    value: str | None = getattr(accounts, name)
    if not value:
        raise _Refusal(
            UnmappableReason.MISSING_LEDGER_ACCOUNT,
            f"{why} needs LedgerAccounts.{name}, which is not set up",
        )
    return value


class _Builder:
    def __init__(self, item: ExportItemV3, accounts: LedgerAccounts) -> None:
        self.item = item
        self.accounts = accounts
        self.kind = str(item.type_)
        self.currency = str(item.amount.in_wallet_currency.currency)
        if self.currency not in EXPONENTS:
            raise _Refusal(
                UnmappableReason.BAD_CURRENCY,
                f"the wallet currency {self.currency[:12]!r} has no ISO 4217 minor unit",
            )
        method = item.bookkeeping.method if item.bookkeeping else None
        self.payable_method = method == "accounts_payable"
        self.lines: list[JournalLine] = []

    def money(self, model: MoneyModel, line_id: UUID | None) -> Money:
        if str(model.currency) != self.currency:
            raise _Refusal(
                UnmappableReason.BAD_CURRENCY,
                f"a wallet amount is in {str(model.currency)[:12]}, the item in {self.currency}",
                line_id,
            )
        return Money(model.value, self.currency)

    def add(self, kind: LineKind, account: str, amount: Money, **extra: object) -> None:
        if amount:
            self.lines.append(JournalLine(kind, account, amount, **extra))  # type: ignore[arg-type]

    def line_account(self, line: ExportItemLineV3) -> str:
        code = _code(line.account)
        if code:
            return code
        if self.kind in REIMBURSEMENT_TYPES:
            return _needed(self.accounts, "employee", f"a {self.kind} line without an account")
        name = line.account.name if line.account else None
        raise _Refusal(
            UnmappableReason.MISSING_ACCOUNT,
            f"line {line.accounting_entry_line_id} has "
            + (f"account {name[:60]!r} without a code" if name else "no account")
            + "; map it to a GL account in Pleo and export again",
            line.accounting_entry_line_id,
        )

    def tax_account(self, tax: TaxV3, side: str, line_id: UUID) -> str:
        own = _text(tax.ingoing_tax_account if side == "input_tax" else tax.outgoing_tax_account)
        if own:
            return own
        fallback: str | None = getattr(self.accounts, side)
        if fallback:
            return fallback
        code = _text(tax.code) or str(tax.id)
        raise _Refusal(
            UnmappableReason.MISSING_TAX_ACCOUNT,
            f"tax {code[:40]} names no {'ingoing' if side == 'input_tax' else 'outgoing'} tax "
            f"account and LedgerAccounts.{side} is not set up",
            line_id,
        )

    def entry_line(self, line: ExportItemLineV3) -> Money:
        line_id = line.accounting_entry_line_id
        gross = self.money(line.line_amount.in_wallet_currency, line_id)
        net = self.money(line.net_amount.in_wallet_currency, line_id)
        tags = tuple(tag for tag in (line.tags or ()) if tag is not None)
        if self.kind == "invoice_payment" and self.payable_method:
            # The invoice booked the expense and its tax; its payment settles the payable.
            payable = _needed(self.accounts, "payable", "an accounts_payable invoice payment")
            self.add(LineKind.EXPENSE, payable, gross, tags=tags, line_id=line_id)
            return gross
        account = self.line_account(line)
        tax = line.tax or None
        if tax is None:
            self.check(net == gross, "its net amount differs from its line amount", line_id)
            self.add(LineKind.EXPENSE, account, net, tags=tags, line_id=line_id)
            return gross
        amount = self.money(tax.amount.in_wallet_currency, line_id)
        kind = str(tax.type_)
        if kind in ("inclusive", "exclusive"):
            self.check(net + amount == gross, "net amount + tax ≠ line amount", line_id)
            self.add(LineKind.EXPENSE, account, net, tags=tags, line_id=line_id)
            input_tax = self.tax_account(tax, "input_tax", line_id)
            self.add(LineKind.TAX, input_tax, amount, line_id=line_id)
        elif kind == "reverse":
            self.check(net == gross, "a reverse-charge net amount ≠ line amount", line_id)
            self.add(LineKind.EXPENSE, account, net, tags=tags, line_id=line_id)
            input_tax = self.tax_account(tax, "input_tax", line_id)
            self.add(LineKind.TAX, input_tax, amount, line_id=line_id)
            output = self.tax_account(tax, "output_tax", line_id)
            self.add(LineKind.REVERSE_CHARGE, output, -amount, line_id=line_id)
        else:
            raise _Refusal(
                UnmappableReason.UNKNOWN_TYPE, f"no rule for tax type {kind[:40]!r}", line_id
            )
        return gross

    def check(self, ok: bool, problem: str, line_id: UUID | None = None) -> None:
        if not ok:
            where = f"line {line_id}" if line_id else "the item"
            raise _Refusal(UnmappableReason.INCONSISTENT_AMOUNTS, f"{where}: {problem}", line_id)

    def contra_account(self) -> str:
        if self.kind in WALLET_TYPES:
            code = _code(self.item.contra_account)
            if code:
                return code
            raise _Refusal(
                UnmappableReason.MISSING_CONTRA_ACCOUNT,
                f"this {self.kind} has no contra account: set up the {self.currency} contra "
                "account in Pleo's accounting settings and export again",
            )
        if self.kind == "invoice":
            if self.payable_method and not self.item.vendor:
                raise _Refusal(
                    UnmappableReason.MISSING_VENDOR, "an accounts_payable invoice has no vendor"
                )
            return _needed(self.accounts, "payable", "an invoice")
        if self.kind in EMPLOYEE_TYPES:
            return _needed(self.accounts, "employee", f"a {self.kind} expense")
        if self.kind == "external_reimbursement":
            return _needed(self.accounts, "bank", "a reimbursement paid outside Pleo")
        raise _Refusal(UnmappableReason.UNKNOWN_TYPE, f"no rule for item type {self.kind[:40]!r}")

    def build(self) -> Journal:
        contra = self.contra_account()
        gross = [self.entry_line(line) for line in self.item.accounting_entry_lines]
        total = Money.total(gross, self.currency)
        self.check(
            total == self.money(self.item.amount.in_wallet_currency, None),
            "its lines do not add up to its amount",
        )
        self.add(LineKind.CONTRA, contra, -total)
        flipped = self.flip(total)
        lines = tuple(
            replace(line, amount=-line.amount) if flipped else line for line in self.lines
        )
        # Balanced by construction: each entry line adds up to its line amount (checked above),
        # and the contra line is minus their total.
        return Journal(self.item.accounting_entry_id, self.item.date, self.currency, lines, flipped)

    def flip(self, total: Money) -> bool:
        """Whether to negate every amount so the contra side is where the type puts it."""
        sub_type = self.item.sub_type if isinstance(self.item.sub_type, str) else None
        into = self.kind in INTO_WALLET_TYPES or (
            self.kind in REIMBURSEMENT_TYPES and sub_type in INTO_WALLET_SUBTYPES
        )
        if into:  # contra debited: the lines' total is negative
            return total.minor > 0
        if self.kind in OUT_OF_WALLET_TYPES:  # contra credited: the lines' total is positive
            return total.minor < 0
        return False


def journal(item: ExportItemV3, accounts: LedgerAccounts | None = None) -> Journal | Unmappable:
    """The balanced journal entry of ``item``, or why it cannot be booked.

    Args:
        item: A v3 export item (``work.export_item`` in a worker's handler).
        accounts: The ERP's accounts for the sides Pleo does not name; see ``LedgerAccounts``.

    Returns:
        A ``Journal`` whose lines sum to zero in minor units, or an ``Unmappable`` naming the
        reason and Pleo's failure type (``unmappable.rejected()`` for the worker).
    """
    try:
        return _Builder(item, accounts or LedgerAccounts()).build()
    except _Refusal as refusal:
        return refusal.unmappable
