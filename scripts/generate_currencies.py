"""Write ``src/pleo_export/_currencies.py``: the ISO 4217 minor-unit exponent of each currency.

The data comes from the ``iso4217`` package (a dev dependency), which ships the list the ISO 4217
maintenance agency publishes and is released again when that list changes. The SDK's runtime
dependencies stay httpx, attrs, python-dateutil and stamina, so the exponents are written out
as a small table instead of imported; ``tests/unit/test_money.py`` fails when the table and the
installed package disagree (then run this script again).

Usage: ``python -m scripts.generate_currencies``
"""

from __future__ import annotations

import iso4217

from scripts._spec_io import REPO_ROOT

__all__ = ["TARGET", "main", "render", "table"]

TARGET = REPO_ROOT / "src" / "pleo_export" / "_currencies.py"
#: Withdrawn codes that Pleo's currency enum still lists (old expenses keep their currency), with
#: the exponent ISO 4217's list of historic denominations records for them. The package has only
#: the current list; a withdrawn code's exponent never changes, so these few are kept here.
HISTORIC = {
    "ANG": 2,
    "BGN": 2,
    "BYR": 0,
    "CUC": 2,
    "HRK": 2,
    "LTL": 2,
    "MRO": 2,
    "RUR": 2,
    "SLL": 2,
    "STD": 2,
    "USS": 2,
    "VEF": 2,
    "ZWL": 2,
}


def table() -> dict[str, int]:
    """Each ISO 4217 code with a minor unit, mapped to its exponent (funds and metals have none),
    and the ``HISTORIC`` ones the current list no longer has."""
    current = {c.code: c.exponent for c in iso4217.Currency if isinstance(c.exponent, int)}
    return dict(sorted((HISTORIC | current).items()))


def render() -> str:
    """The module's source text."""
    rows = "".join(f'    "{code}": {exponent},\n' for code, exponent in table().items())
    return (
        '"""ISO 4217 minor-unit exponents (digits after the decimal point) by currency code.\n\n'
        "Written by ``python -m scripts.generate_currencies`` from the ``iso4217`` package "
        f"{iso4217.__version__}\n"
        f"(the ISO 4217 list published {iso4217.__published__.isoformat()}) and the withdrawn\n"
        "codes Pleo still lists (``HISTORIC`` there); do not edit.\n"
        '"""\n\n'
        "from __future__ import annotations\n\n"
        "from typing import Final\n\n"
        '__all__ = ["EXPONENTS", "SOURCE"]\n\n'
        f'#: Where the table comes from.\nSOURCE: Final = "iso4217 {iso4217.__version__}"\n\n'
        "#: Code → exponent: 896.96 SEK is 89696 minor units (2), 1000 JPY is 1000 (0).\n"
        "EXPONENTS: Final[dict[str, int]] = {\n"
        f"{rows}"
        "}\n"
    )


def main() -> int:
    """Command-line entry point."""
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
