"""A tiny general ledger in SQLite: the accounting system the demo exports into.

It stands in for an ERP and follows the rules Pleo's integration guides set for one:

* booking is idempotent: ``entries`` is keyed UNIQUE on Pleo's ``accountingEntryId``, so
  booking an entry again (after a crash, a retry, a second worker) returns the document number
  it already has instead of booking it twice;
* an entry and its lines are written in one transaction, so a crash leaves all or nothing;
* an ``accounts_payable`` entry needs a vendor the ledger knows (matched by code, then account,
  then tax id); otherwise the booking is refused as ``vendor_unknown``;
* every entry is the balanced journal ``pleo_export.accounting.journal`` makes of the export item
  (expense lines, tax lines by tax type, the contra line; signs by item type), its lines summing
  to zero in minor units; an item it cannot map (a line without an account, no contra account)
  is refused with the reason's Pleo failure type (``account_unknown``, ...);
* attachments (receipts) are content-addressed: ``files`` holds one row, and the files folder
  one copy, per SHA-256, however many entries or retries bring the same bytes;
  ``attachments`` ties each entry to its files in Pleo's order, in the booking's transaction.

sqlite3 and ``pleo_export.accounting`` only. Nothing here knows about HTTP or Pleo's API.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pleo_export.accounting import Journal, LedgerAccounts, Unmappable, journal

__all__ = ["KNOWN_VENDORS", "Attachment", "Booking", "BookingError", "Ledger"]

#: Vendor codes in the ledger's register. The fake's companies also buy from V-1006, which the
#: ledger has never heard of, and from a vendor Pleo has no code for (the ERP's V-1004, whose
#: tax id the register does not hold): those invoices fail with ``vendor_unknown``, as in real
#: life.
KNOWN_VENDORS = ("V-1001", "V-1002", "V-1003", "V-1004", "V-1005")
PAYABLES_ACCOUNT = "2400"
#: The ledger's own accounts for the sides Pleo does not name (see ``LedgerAccounts``).
ACCOUNTS = LedgerAccounts(
    employee="2820", payable=PAYABLES_ACCOUNT, bank="1930", input_tax="2640", output_tax="2650"
)

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
CREATE TABLE IF NOT EXISTS files (
    sha256     TEXT    PRIMARY KEY,
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    name       TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    entry_number INTEGER NOT NULL REFERENCES entries(number),
    position     INTEGER NOT NULL,
    sha256       TEXT    NOT NULL REFERENCES files(sha256),
    PRIMARY KEY (entry_number, position)
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
class Attachment:
    """A file already in the ledger's files folder, named by its content (``name``)."""

    sha256: str
    media_type: str
    size: int
    name: str


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
        #: Where attachments are kept, one file per SHA-256, beside the database.
        self.files_dir = self.path.with_name(self.path.stem + "-files")
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

    def book(self, item: Any, *, job_id: str, attachments: Sequence[Attachment] = ()) -> Booking:
        """Book one export item (an ``ExportItemV3``) once; book it again and get the same number.

        ``attachments`` (already in ``files_dir``) are recorded with a new booking; booking
        again keeps the first booking's.

        Returns:
            The document number, e.g. ``GL-000042``, and whether this call created it.

        Raises:
            BookingError: an ``accounts_payable`` entry whose vendor the ledger does not know,
                or an item ``pleo_export.accounting`` cannot map to balanced lines.
        """
        method = item.bookkeeping.method if _value(item.bookkeeping) else None
        vendor = _value(item.vendor)
        if method == "accounts_payable" and (vendor is None or not self._knows_vendor(vendor)):
            name = f"{vendor.name} ({_value(vendor.code) or 'no code'})" if vendor else "none"
            raise BookingError(
                f"Vendor {name} is not in the ledger's vendor register; add it and export again.",
                "vendor_unknown",
            )
        entry = journal(item, ACCOUNTS)
        if isinstance(entry, Unmappable):
            raise BookingError(entry.message, entry.failure_type)
        amount = item.amount.in_wallet_currency
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
                    self._lines(number, entry),
                )
                self._db.executemany(
                    "INSERT OR IGNORE INTO files (sha256, media_type, size, name)"
                    " VALUES (?, ?, ?, ?)",
                    [(a.sha256, a.media_type, a.size, a.name) for a in attachments],
                )
                self._db.executemany(
                    "INSERT INTO attachments (entry_number, position, sha256) VALUES (?, ?, ?)",
                    [(number, n, a.sha256) for n, a in enumerate(attachments)],
                )
        return Booking(f"GL-{number:06d}", new)

    @staticmethod
    def _lines(number: int, entry: Journal) -> list[tuple[int, str, int, int]]:
        """The journal's lines as rows: account, debit and credit in minor units."""
        return [(number, line.account, line.debit, line.credit) for line in entry.lines]

    def unbalanced(self) -> list[str]:
        """Booked entries whose debits and credits differ (none, when booking is right)."""
        rows = self._db.execute(
            "SELECT e.accounting_entry_id FROM entries e JOIN lines l ON l.entry_number = e.number"
            " GROUP BY e.number HAVING SUM(l.debit) != SUM(l.credit) OR COUNT(*) < 2"
        )
        return [row[0] for row in rows]

    def count(self) -> int:
        """How many entries the ledger holds."""
        (n,) = self._db.execute("SELECT COUNT(*) FROM entries").fetchone()
        return int(n)

    def job_ids(self) -> list[str]:
        """The Pleo jobs the ledger holds entries of."""
        return [row[0] for row in self._db.execute("SELECT DISTINCT job_id FROM entries")]

    def attachments(self, accounting_entry_id: str) -> list[Attachment]:
        """The files of a booked entry, in Pleo's order."""
        rows = self._db.execute(
            "SELECT f.sha256, f.media_type, f.size, f.name FROM entries e"
            " JOIN attachments a ON a.entry_number = e.number JOIN files f USING (sha256)"
            " WHERE e.accounting_entry_id = ? ORDER BY a.position",
            (accounting_entry_id,),
        )
        return [Attachment(*row) for row in rows]

    def entries(self) -> list[tuple[str, str]]:
        """Every booked accounting entry, with the job it came from."""
        rows = self._db.execute("SELECT accounting_entry_id, job_id FROM entries ORDER BY number")
        return [(entry, job) for entry, job in rows]

    def file_count(self) -> tuple[int, int]:
        """Attachments recorded, and distinct files stored for them."""
        (attached,) = self._db.execute("SELECT COUNT(*) FROM attachments").fetchone()
        (stored,) = self._db.execute("SELECT COUNT(*) FROM files").fetchone()
        return int(attached), int(stored)

    def file_problems(self) -> list[str]:
        """Stored files that are missing or whose bytes no longer hash to their name."""
        problems = []
        for sha256, name in self._db.execute("SELECT sha256, name FROM files"):
            path = self.files_dir / name
            if not path.exists():
                problems.append(f"missing {name}")
                continue
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            if digest.hexdigest() != sha256:
                problems.append(f"corrupt {name}")
        return problems

    def document(self, accounting_entry_id: str) -> str | None:
        """The document number of an accounting entry, if booked."""
        row = self._db.execute(
            "SELECT number FROM entries WHERE accounting_entry_id = ?", (accounting_entry_id,)
        ).fetchone()
        return None if row is None else f"GL-{row[0]:06d}"
