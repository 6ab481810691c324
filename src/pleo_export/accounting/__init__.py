"""Export items as balanced journal entries: ``journal(item)`` gives the debit and credit lines
a ledger books, in minor units of the wallet currency, summing to zero exactly, or an
``Unmappable`` naming why not (with Pleo's item failure type, ready for ``Rejected``)::

    from pleo_export.accounting import LedgerAccounts, Unmappable, journal

    ACCOUNTS = LedgerAccounts(employee="2820", payable="2400", bank="1930", input_tax="2640")

    def book(work):
        entry = journal(work.export_item, ACCOUNTS)
        if isinstance(entry, Unmappable):
            return entry.rejected()
        for line in entry.lines:        # line.account, line.debit, line.credit, line.tags
            ...

The rules, one by one (the sources are Pleo's export guides; where they leave a point open the
rule says so):

1. **Currency.** An entry is booked in the wallet currency (every ``inWalletCurrency`` amount):
   the contra account is that wallet's account. Wallet amounts in two currencies, or a currency
   without an ISO 4217 minor unit, are ``BAD_CURRENCY``. Supplier-currency amounts are not
   booked (they are the receipt's view).
2. **Expense lines.** Each accounting entry line debits its net amount to its account (the
   account's ``code``, else its ``identifier``), with the line's tags. A line without one is
   ``MISSING_ACCOUNT`` (``account_unknown``), except on reimbursements, where a line without an
   account settles the debt to the employee (``LedgerAccounts.employee``).
3. **Tax**, by ``tax.type``:
   * ``inclusive`` (the tax is inside the line amount) and ``exclusive`` (the tax was added on
     top of the net price; the line amount is what was paid): net + tax must equal the line
     amount; the tax is debited to the tax's ``ingoingTaxAccount``, else
     ``LedgerAccounts.input_tax``;
   * ``reverse`` (EU reverse charge: the supplier charged no VAT, the buyer accounts for it):
     net equals the line amount; the tax is debited to ``ingoingTaxAccount`` (input VAT) and
     credited to ``outgoingTaxAccount`` (output VAT), else ``input_tax`` / ``output_tax``;
   * no tax: net equals the line amount. A missing tax account is ``MISSING_TAX_ACCOUNT``
     (``tax_code_unknown``); amounts that do not add up are ``INCONSISTENT_AMOUNTS``
     (``validation_failure``), as is a line total that is not the item's ``amount``.
4. **The contra line** credits the total of the line amounts to the other side:
   * wallet types (``card_purchase``, ``card_invoice``, ``fee``, ``cashback``, ``refund``,
     ``chargeback``, ``direct_reimbursement``, ``invoice_payment``, ``atm_withdrawal``,
     ``personal_spend``, ``wallet_topup``, ``wallet_unload``): the item's ``contraAccount``;
     without one, ``MISSING_CONTRA_ACCOUNT`` (``missing_configuration``: Pleo's contra accounts
     are not set up for that currency, its ``MISSING_CONTRA_ACCOUNTS``);
   * ``invoice``: ``LedgerAccounts.payable`` (an ``accounts_payable`` invoice needs a vendor:
     ``MISSING_VENDOR``, ``vendor_unknown``); the ERP's own vendor matching is the ledger's;
   * ``out_of_pocket``, ``mileage``, ``per_diem``: ``LedgerAccounts.employee`` (owed to the
     employee until reimbursed);
   * ``external_reimbursement``: ``LedgerAccounts.bank`` (paid outside Pleo).
   An ``accounts_payable`` ``invoice_payment`` debits ``LedgerAccounts.payable`` with each
   line amount instead of expense and tax (the invoice booked those). A ``LedgerAccounts``
   account an item needs but that is not set up is ``MISSING_LEDGER_ACCOUNT``
   (``missing_configuration``). Any other type is ``UNKNOWN_TYPE`` (``validation_failure``).
5. **Signs.** Amounts are booked with the sign Pleo sends (a negative line credits its
   account), except where the type fixes the direction, where every amount is negated if needed
   (``Journal.flipped``): ``refund``, ``chargeback``, ``cashback``, ``wallet_topup`` and the
   reimbursement sub-types ``reimbursement_to_company`` and
   ``reimbursement_to_employee_refund`` bring money into the wallet (the contra line is a
   debit); ``wallet_unload`` takes it out (a credit). Pleo's docs do not say which sign these
   arrive with, so both are read the same way.
6. **Balance.** The lines sum to zero in minor units, exactly (``Journal.balance``); lines of
   zero are left out.
"""

from __future__ import annotations

from ._journal import (
    FAILURE_TYPES,
    Journal,
    JournalLine,
    LedgerAccounts,
    LineKind,
    Unmappable,
    UnmappableReason,
    journal,
)

__all__ = [
    "FAILURE_TYPES",
    "Journal",
    "JournalLine",
    "LedgerAccounts",
    "LineKind",
    "Unmappable",
    "UnmappableReason",
    "journal",
]
