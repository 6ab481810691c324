"""``pleo_export.money``: exact amounts in minor units, major units by ISO 4217 exponent, and
arithmetic that refuses to mix currencies; and the exponent table against its source."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pleo_export import PleoError
from pleo_export._currencies import EXPONENTS
from pleo_export.models import MoneyModel
from pleo_export.money import CurrencyMismatchError, Money, MoneyError, UnknownCurrencyError
from scripts.generate_currencies import TARGET, render


def test_the_exponent_table_is_a_fresh_rendering_of_the_iso4217_package() -> None:
    """Fails when ``_currencies.py`` was edited by hand or the ``iso4217`` package has a newer
    list than the one rendered (run ``python -m scripts.generate_currencies``)."""
    assert TARGET.read_text(encoding="utf-8") == render()


@pytest.mark.parametrize(
    ("currency", "minor", "major", "text"),
    [
        ("JPY", 1000, "1000", "1000 JPY"),
        ("EUR", 89696, "896.96", "896.96 EUR"),
        ("KWD", 1500, "1.500", "1.500 KWD"),
        ("SEK", -5, "-0.05", "-0.05 SEK"),
        ("HRK", 100, "1.00", "1.00 HRK"),  # withdrawn, still in Pleo's enum
    ],
)
def test_major_units_use_the_iso_4217_exponent(
    currency: str, minor: int, major: str, text: str
) -> None:
    """0 decimals for JPY, 2 for EUR, 3 for KWD; fails if an exponent is wrong or the amount
    is rounded or printed with other decimals."""
    money = Money(minor, currency)
    assert money.amount == Decimal(major)
    assert str(money.amount) == major
    assert str(money) == text
    assert Money.from_major(major, currency) == money


def test_of_reads_a_generated_money_model_exactly() -> None:
    """``Money.of`` takes the model's int and currency; fails if it goes through float."""
    model = MoneyModel.from_dict({"currency": "SEK", "value": 89696})
    assert Money.of(model) == Money(89696, "SEK")
    assert Money.of(model).amount == Decimal("896.96")


def test_arithmetic_refuses_to_mix_currencies() -> None:
    """Fails if EUR and SEK amounts add, subtract or compare."""
    eur, sek = Money(100, "EUR"), Money(100, "SEK")
    for operation in (lambda: eur + sek, lambda: eur - sek, lambda: eur < sek):
        with pytest.raises(CurrencyMismatchError, match="EUR and SEK") as caught:
            operation()
        assert isinstance(caught.value, PleoError)
    assert eur != sek
    assert eur + Money(5, "EUR") == Money(105, "EUR")
    assert -eur == Money(-100, "EUR")
    assert Money.total([eur, eur], "EUR") == Money(200, "EUR")
    with pytest.raises(CurrencyMismatchError):
        Money.total([eur, sek], "EUR")


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0.5", "JPY"), ("1.0001", "KWD"), ("1.234", "EUR"), ("NaN", "EUR"), ("1e999999", "EUR")],
)
def test_from_major_refuses_what_is_not_whole_minor_units(amount: str, currency: str) -> None:
    """Fails if a fraction of a minor unit is rounded away instead of refused."""
    with pytest.raises(MoneyError):
        Money.from_major(amount, currency)


def test_no_float_or_bool_becomes_money() -> None:
    """Fails if a float or bool is accepted as an amount."""
    with pytest.raises(MoneyError):
        Money(1.0, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True, "EUR")
    with pytest.raises(MoneyError):
        Money.from_major(0.1, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["UNDEFINED", "XAU", "ABC", "eur"])
def test_a_currency_without_a_minor_unit_is_a_typed_error(currency: str) -> None:
    """Fails if an unknown code gets a guessed exponent."""
    with pytest.raises(UnknownCurrencyError):
        _ = Money(1, currency).amount


@given(
    st.sampled_from(sorted(EXPONENTS)),
    st.integers(-(10**15), 10**15),
    st.integers(-(10**15), 10**15),
)
def test_major_units_round_trip_and_add_exactly(currency: str, a: int, b: int) -> None:
    """For every currency, minor → major → minor is the identity and sums are exact; fails on
    any rounding."""
    left, right = Money(a, currency), Money(b, currency)
    assert Money.from_major(left.amount, currency) == left
    assert (left + right).amount == left.amount + right.amount
    assert (left + right - right) == left
