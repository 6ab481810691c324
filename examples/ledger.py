"""A tiny general ledger in SQLite: the accounting system the demo exports into.

It stands in for an ERP and follows the rules Pleo's integration guides set for one:

* booking is idempotent: ``entries`` is keyed UNIQUE on Pleo's ``accountingEntryId``, so
  booking an entry again (after a crash, a retry, a second worker) returns the document number
  it already has instead of booking it twice;
* an entry and its lines are written in one transaction, so a crash leaves all or nothing;
* an ``accounts_payable`` entry needs a vendor the ledger knows (matched by code, then account,
  then tax id); otherwise the booking is refused as ``vendor_unknown``.

Standard library only (sqlite3). Nothing here knows about HTTP or Pleo's API.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["KNOWN_VENDORS", "Booking", "BookingError", "Ledger"]

#: Vendor codes in the ledger's register. The fake's companies also buy from V-1006, which the
#: ledger has never heard of: those invoices fail with ``vendor_unknown``, as in real life.
KNOWN_VENDORS = ("V-1001", "V-1002", "V-1003", "V-1004", "V-1005")
#: Where a line without its own account, or an entry without a contra account, is booked.
SUSPENSE_ACCOUNT = "2990"
PAYABLES_ACCOUNT = "2400"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    number              INTEGER PRIMARY KEY AUTOINCREMENT,
    accounting_entry_id TEXT    NOT NULL UNIQUE,
    job_id              TEXT    NOT NULL,
    company_id          TEXT    NOT NULL,
    entry_date          TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    method              TEXT,
    amount              INTEGER NOT NULL,
    currency            TEXT    NOT NULL,
    vendor_code         TEXT,
    booked_at           TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS lines (
    entry_number INTEGER NOT NULL REFERENCES entries(number),
    account      TEXT    NOT NULL,
    debit        INTEGER NOT NULL,
    credit       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vendors (
    code           TEXT PRIMARY KEY,
    account        TEXT,
    tax_identifier TEXT
);
"""


class BookingError(Exception):
    """The ledger refused an entry; ``reason_type`` is the Pleo item failure type to report."""

    def __init__(self, reason: str, reason_type: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_type = reason_type


@dataclass(frozen=True)
class Booking:
    """A booked entry: its document number (Pleo's ``externalId``) and whether it is new."""

    document: str
    new: bool


def _value(value: Any) -> Any:
    """The SDK's models use a falsy UNSET for absent fields; read it as None."""
    return value if value else None


class Ledger:
    """A SQLite general ledger with an idempotent ``book``.

    Args:
        path: the database file; created with its schema and vendor register if new.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # Autocommit; ``book`` opens its own transaction. WAL keeps each commit cheap.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.executemany(
            "INSERT OR IGNORE INTO vendors (code) VALUES (?)", [(c,) for c in KNOWN_VENDORS]
        )

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _knows_vendor(self, vendor: Any) -> bool:
        for column, value in (
            ("code", _value(vendor.code)),
            ("account", _value(getattr(vendor, "account", None))),
            ("tax_identifier", _value(vendor.tax_registration_number)),
        ):
            if (
                value
                and self._db.execute(
                    f"SELECT 1 FROM vendors WHERE {column} = ?", (value,)
                ).fetchone()
            ):
                return True
        return False

    def book(self, item: Any, *, job_id: str) -> Booking:
        """Book one export item (an ``ExportItemV3``) once; book it again and get the same number.

        Returns:
            The document number, e.g. ``GL-000042``, and whether this call created it.

        Raises:
            BookingError: an ``accounts_payable`` entry whose vendor the ledger does not know.
        """
        method = item.bookkeeping.method if _value(item.bookkeeping) else None
        vendor = _value(item.vendor)
        if method == "accounts_payable" and (vendor is None or not self._knows_vendor(vendor)):
            name = f"{vendor.name} ({_value(vendor.code) or 'no code'})" if vendor else "none"
            raise BookingError(
                f"Vendor {name} is not in the ledger's vendor register; add it and export again.",
                "vendor_unknown",
            )
        amount = item.amount.in_wallet_currency
        contra = _value(item.contra_account)
        credit_account = _value(contra.code) if contra else None
        if method == "accounts_payable":
            credit_account = PAYABLES_ACCOUNT
        entry_id = str(item.accounting_entry_id)
        with self._db:  # one transaction: the entry and its lines, or nothing
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO entries (accounting_entry_id, job_id, company_id,"
                " entry_date, kind, method, amount, currency, vendor_code, booked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry_id,
                    job_id,
                    str(item.company_id),
                    item.date.date().isoformat(),
                    str(item.type_),
                    method,
                    amount.value,
                    amount.currency,
                    _value(vendor.code) if vendor else None,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                ),
            )
            new = cursor.rowcount == 1
            (number,) = self._db.execute(
                "SELECT number FROM entries WHERE accounting_entry_id = ?", (entry_id,)
            ).fetchone()
            if new:
                self._db.executemany(
                    "INSERT INTO lines (entry_number, account, debit, credit) VALUES (?, ?, ?, ?)",
                    self._lines(number, item, credit_account or SUSPENSE_ACCOUNT),
                )
        return Booking(f"GL-{number:06d}", new)

    @staticmethod
    def _lines(number: int, item: Any, credit_account: str) -> list[tuple[int, str, int, int]]:
        """Debit each line's account (net, plus tax on the tax account); credit the total."""
        rows: list[tuple[int, str, int, int]] = []
        total = 0
        for line in item.accounting_entry_lines:
            account = _value(line.account)
            gross = line.line_amount.in_wallet_currency.value
            net = line.net_amount.in_wallet_currency.value
            code = (_value(account.code) if account else None) or SUSPENSE_ACCOUNT
            rows.append((number, code, net, 0))
            if gross != net:
                rows.append((number, "2710", gross - net, 0))  # input VAT
            total += gross
        rows.append((number, credit_account, 0, total))
        return rows

    def count(self) -> int:
        """How many entries the ledger holds."""
        (n,) = self._db.execute("SELECT COUNT(*) FROM entries").fetchone()
        return int(n)

    def job_ids(self) -> list[str]:
        """The Pleo jobs the ledger holds entries of."""
        return [row[0] for row in self._db.execute("SELECT DISTINCT job_id FROM entries")]

    def document(self, accounting_entry_id: str) -> str | None:
        """The document number of an accounting entry, if booked."""
        row = self._db.execute(
            "SELECT number FROM entries WHERE accounting_entry_id = ?", (accounting_entry_id,)
        ).fetchone()
        return None if row is None else f"GL-{row[0]:06d}"
