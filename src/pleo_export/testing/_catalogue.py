"""Per-company master data for the fake: accounts, tax codes, tags, teams, users and vendors.

Built once per company from the seed, so items reuse the same accounts and people the way a real
company's expenses do. It holds reference data only; items are built in ``_data``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pleo_export.testing._ids import seeded_uuid

__all__ = [
    "COUNTRIES",
    "FOREIGN_CURRENCIES",
    "FX_PER_EUR",
    "MERCHANTS",
    "SUPPLIER_FX_PER_EUR",
    "Catalogue",
    "TaxCode",
    "build_catalogue",
]

#: country -> (wallet currency, standard VAT rate, reduced VAT rate)
COUNTRIES: dict[str, tuple[str, float, float]] = {
    "DK": ("DKK", 0.25, 0.25),
    "GB": ("GBP", 0.20, 0.05),
    "SE": ("SEK", 0.25, 0.12),
    "NO": ("NOK", 0.25, 0.15),
    "DE": ("EUR", 0.19, 0.07),
    "IE": ("EUR", 0.23, 0.135),
    "ES": ("EUR", 0.21, 0.10),
    "NL": ("EUR", 0.21, 0.09),
}

#: Supplier currencies of the foreign merchants' home countries (not wallet currencies).
FOREIGN_CURRENCIES: dict[str, str] = {"US": "USD", "JP": "JPY", "KW": "KWD"}

#: Units of each currency per euro; rough, fixed, good enough for believable conversions.
FX_PER_EUR: dict[str, float] = {
    "EUR": 1.0,
    "DKK": 7.46,
    "GBP": 0.85,
    "SEK": 11.2,
    "NOK": 11.6,
    "USD": 1.08,
}
#: The same for supplier currencies no wallet holds (no contra account is made for them).
SUPPLIER_FX_PER_EUR: dict[str, float] = {"JPY": 162.0, "KWD": 0.332}

#: Accounts for the lines of balance movements (ATM cash, top-ups and unloads from the bank).
_MOVEMENT_ACCOUNTS = (("Cash", "1910"), ("Bank transfers", "1990"))
#: A US-style sales tax: added on top of the price at the till, so ``exclusive``.
_SALES_TAX_RATE = 0.0725
_ACCOUNTS = (
    ("Travel", "7300"),
    ("Accommodation", "7310"),
    ("Fuel and mileage", "7320"),
    ("Meals and entertainment", "7350"),
    ("Office supplies", "6800"),
    ("Software subscriptions", "6830"),
    ("Equipment", "6850"),
    ("Telephone and internet", "6900"),
    ("Marketing", "7100"),
    ("Training", "7400"),
    ("Consulting services", "6500"),
    ("Bank fees", "8500"),
)

#: (name, merchant category code, account name, home country or None for the company's own,
#: reduced VAT applies)
MERCHANTS: tuple[tuple[str, str, str, str | None, bool], ...] = (
    ("Target", "5310", "Office supplies", None, False),
    ("Staples", "5943", "Office supplies", None, False),
    ("IKEA", "5712", "Equipment", None, False),
    ("Apple Store", "5732", "Equipment", None, False),
    ("SAS Scandinavian Airlines", "4511", "Travel", None, True),
    ("Uber", "4121", "Travel", "NL", True),
    ("DSB", "4112", "Travel", None, True),
    ("Hilton Hotels", "7011", "Accommodation", None, True),
    ("Shell", "5541", "Fuel and mileage", None, False),
    ("Starbucks", "5814", "Meals and entertainment", None, False),
    ("Deliveroo", "5812", "Meals and entertainment", None, False),
    ("GOOGLE*ADS8693645259", "7311", "Marketing", "IE", False),
    ("LinkedIn", "7311", "Marketing", "IE", False),
    ("Amazon Web Services", "7372", "Software subscriptions", "US", False),
    ("Slack Technologies", "5734", "Software subscriptions", "US", False),
    ("Zoom.us", "4816", "Telephone and internet", "US", False),
    ("Muji Ginza", "5311", "Office supplies", "JP", False),  # yen: no minor unit
    ("Kuwait Airways", "4511", "Travel", "KW", True),  # dinar: three decimals
)

_FIRST = ("Luke", "Natalie", "Freja", "Oliver", "Amara", "Jonas", "Sofia", "Mateo", "Ingrid", "Kai")
_LAST = ("Richardson", "White", "Nielsen", "Berg", "Okafor", "Schmidt", "Garcia", "Larsen", "Kim")
_TEAMS = (
    ("Engineering", "5678"),
    ("Sales", "SLS"),
    ("Marketing", "MKT"),
    ("Finance", "FIN"),
    ("Operations", None),
)
_TAG_GROUPS = (("PROJECT", "P-1{:02d}"), ("COSTCENTER", "CC-{:03d}"), ("REGION", "R{:02d}"))
_VENDORS = (
    "Nordic Office Supply",
    "Copenhagen Cleaning Co",
    "Brightline Consulting",
    "Cloudfront Hosting",
    "Fjord Legal Partners",
    "Greenleaf Catering",
)
_VENDOR_SUFFIX = {"DK": "ApS", "GB": "Ltd", "SE": "AB", "NO": "AS", "DE": "GmbH"}


@dataclass(frozen=True, slots=True)
class TaxCode:
    """One tax code of a company: id, code, rate as a fraction, and Pleo's tax type."""

    id: str
    code: str
    rate: float
    type: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The master data of one company, as the JSON fragments items embed."""

    company_id: str
    country: str
    currency: str
    accounts: dict[str, dict[str, Any]]
    standard_tax: TaxCode
    reduced_tax: TaxCode
    reverse_tax: TaxCode
    sales_tax: TaxCode
    tags: tuple[dict[str, Any], ...]
    users: tuple[tuple[dict[str, Any], dict[str, Any] | None], ...]
    vendors: tuple[dict[str, Any], ...]
    contra_accounts: dict[str, dict[str, Any]]


def build_catalogue(seed: int, company_id: str, country: str) -> Catalogue:
    """Build the deterministic master data of ``company_id`` for ``seed``."""
    rng = random.Random(f"catalogue|{seed}|{company_id}")
    currency, standard, reduced = COUNTRIES[country]
    accounts: dict[str, dict[str, Any]] = {
        name: {"id": seeded_uuid(rng), "name": name, "code": code, "identifier": f"GL-{code}"}
        for name, code in _ACCOUNTS
    }
    # Pleo leaves `identifier` empty unless the ERP has its own key; drop it on some accounts.
    for account in list(accounts.values())[::3]:
        account["identifier"] = None
    teams = [{"id": seeded_uuid(rng), "name": name, "code": code} for name, code in _TEAMS]
    users: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for number in range(1, 13):
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        code = f"EMP-{number:04d}" if rng.random() < 0.7 else None
        team = rng.choice(teams) if rng.random() < 0.85 else None
        users.append(({"id": seeded_uuid(rng), "name": name, "code": code}, team))
    tags = tuple(
        {"id": seeded_uuid(rng), "code": pattern.format(number), "groupCode": group}
        for group, pattern in _TAG_GROUPS
        for number in range(1, 5)
    )
    suffix = _VENDOR_SUFFIX.get(country, "Ltd")
    vendors = tuple(
        {
            "id": seeded_uuid(rng),
            "name": f"{name} {suffix}",
            "defaultCurrency": currency,
            "code": f"V-{1001 + number}",
            "country": country,
            "externalId": f"ERP-V-{1001 + number}",
            "registrationNumber": f"{rng.randrange(10**7, 10**8)}",
            "taxRegistrationNumber": f"{country}{rng.randrange(10**7, 10**8)}",
        }
        for number, name in enumerate(_VENDORS)
    )
    # Drawn from their own generator, so the ids above stay what they were before these existed.
    extra = random.Random(f"catalogue-extra|{seed}|{company_id}")
    for name, code in _MOVEMENT_ACCOUNTS:
        accounts[name] = {"id": seeded_uuid(extra), "name": name, "code": code, "identifier": None}
    sales_tax = TaxCode(seeded_uuid(extra), "US-ST", _SALES_TAX_RATE, "exclusive")
    # Vendors with and without codes: Pleo's vendor code is optional, and an ERP then matches a
    # vendor by its account or tax id. V-1004 has none (its key is left out: VendorV3.code is
    # not nullable).
    vendors = tuple(
        {k: v for k, v in vendor.items() if k != "code"} if vendor["code"] == "V-1004" else vendor
        for vendor in vendors
    )
    contra = {
        cur: {
            "id": seeded_uuid(rng),
            "name": f"Pleo {cur} wallet",
            "code": f"18{number:02d}",
            "identifier": None,
        }
        for number, cur in enumerate(sorted(FX_PER_EUR))
    }
    return Catalogue(
        company_id=company_id,
        country=country,
        currency=currency,
        accounts=accounts,
        standard_tax=TaxCode(seeded_uuid(rng), f"S{round(standard * 100)}", standard, "inclusive"),
        reduced_tax=TaxCode(seeded_uuid(rng), f"R{round(reduced * 100)}", reduced, "inclusive"),
        reverse_tax=TaxCode(seeded_uuid(rng), "RC", standard, "reverse"),
        sales_tax=sales_tax,
        tags=tags,
        users=tuple(users),
        vendors=vendors,
        contra_accounts=contra,
    )
