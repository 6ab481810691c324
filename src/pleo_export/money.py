"""Exact money: an amount in minor units with its ISO 4217 currency.

Pleo sends every amount as an integer count of the currency's minor units (``MoneyModel.value``:
896.96 SEK is ``89696``, 1000 JPY is ``1000``, 1.500 KWD is ``1500``). ``Money`` keeps that
integer and reads it in major units with the currency's ISO 4217 exponent (0 for JPY, 2 for EUR,
3 for KWD), formats it, and adds and subtracts only amounts of the same currency::

    from pleo_export.money import Money

    price = Money.of(item.amount.in_wallet_currency)   # a MoneyModel from an export item
    price.amount        # Decimal('896.96')
    str(price)          # '896.96 SEK'
    price + Money(100, "SEK")   # Money(minor=89796, currency='SEK')
    price + Money(100, "EUR")   # CurrencyMismatchError

No float is involved anywhere. The exponents come from ``_currencies`` (generated from the
``iso4217`` package, the ISO 4217 maintenance agency's list).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import attrs

from ._currencies import EXPONENTS
from ._errors import PleoError

if TYPE_CHECKING:
    from typing import Self

__all__ = ["CurrencyMismatchError", "Money", "MoneyError", "UnknownCurrencyError", "exponent"]


class MoneyError(PleoError, ValueError):
    """An amount that cannot be read or combined exactly."""


class UnknownCurrencyError(MoneyError):
    """A currency with no ISO 4217 minor unit (``UNDEFINED``, a fund code, a typo)."""

    def __init__(self, currency: str) -> None:
        super().__init__(f"no ISO 4217 minor unit is known for currency {currency[:12]!r}")
        self.currency = currency


class CurrencyMismatchError(MoneyError):
    """Arithmetic or a comparison between amounts of two currencies."""

    def __init__(self, left: str, right: str, operation: str) -> None:
        super().__init__(f"cannot {operation} {left} and {right}: convert one of them first")
        self.currencies = (left, right)


class _MoneyLike(Protocol):
    """A generated ``MoneyModel``: its currency (an open string enum) and integer value."""

    @property
    def currency(self) -> str: ...

    @property
    def value(self) -> int: ...


def exponent(currency: str) -> int:
    """The ISO 4217 exponent of ``currency``: 0 for JPY, 2 for EUR, 3 for KWD.

    Raises:
        UnknownCurrencyError: the code has no minor unit in ISO 4217 (``UNDEFINED``, ``XAU``…).
    """
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrencyError(str(currency)) from None


def _currency(value: object) -> str:
    code = str(value)  # a MoneyModelCurrency member is a str already; str() drops the enum
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise UnknownCurrencyError(code)
    return code


def _minor(value: object) -> int:
    if value.__class__ is not int:
        raise MoneyError(f"an amount in minor units is an int, not {type(value).__name__}")
    return value


@attrs.frozen(order=False, repr=True)
class Money:
    """An exact amount: ``minor`` units of ``currency`` (an ISO 4217 code).

    Equal when both the amount and the currency are equal. ``+``, ``-`` and the comparisons
    ``<`` ``<=`` ``>`` ``>=`` take two amounts of one currency and raise
    ``CurrencyMismatchError`` otherwise; ``-money`` and ``abs(money)`` keep the currency.

    Args:
        minor: The amount in minor units (an ``int``; a ``bool`` or ``float`` is refused).
        currency: The ISO 4217 code, e.g. ``"SEK"`` (a ``MoneyModelCurrency`` member works).
    """

    minor: int = attrs.field(converter=_minor)
    currency: str = attrs.field(converter=_currency)

    @classmethod
    def of(cls, money: _MoneyLike) -> Self:
        """The amount of a generated ``MoneyModel`` (``item.amount.in_wallet_currency``)."""
        return cls(money.value, money.currency)

    @classmethod
    def from_major(cls, amount: Decimal | int | str, currency: str) -> Self:
        """The amount ``amount`` in major units, e.g. ``Money.from_major("896.96", "SEK")``.

        Raises:
            MoneyError: ``amount`` has more decimals than the currency has minor units (0.5 JPY),
                or is not a finite number (a ``float`` is refused: it is rarely the amount meant).
            UnknownCurrencyError: the currency has no ISO 4217 minor unit.
        """
        if isinstance(amount, float | bool):
            raise MoneyError("give a major amount as a Decimal, int or str, not a float or bool")
        code = _currency(currency)
        try:
            major = Decimal(amount)
        except ArithmeticError:
            raise MoneyError(f"not a decimal amount: {str(amount)[:40]!r}") from None
        if not major.is_finite():
            raise MoneyError(f"not a finite amount: {major}")
        try:
            minor = major.scaleb(exponent(code))
            whole = minor == minor.to_integral_value()
        except ArithmeticError:  # beyond the decimal context's exponent range
            raise MoneyError(f"not an amount: {str(amount)[:40]!r}") from None
        if not whole:
            raise MoneyError(f"{major} {code} is not a whole number of minor units")
        return cls(int(minor), code)

    @property
    def exponent(self) -> int:
        """The currency's ISO 4217 exponent (digits after the decimal point)."""
        return exponent(self.currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact, with the currency's decimals: ``Decimal('896.96')``,
        ``Decimal('1000')`` for JPY, ``Decimal('1.500')`` for KWD."""
        return Decimal(self.minor).scaleb(-self.exponent)

    def format(self, *, grouping: bool = False) -> str:
        """``"896.96 SEK"``; with ``grouping``, thousands separated by commas: ``"1,234.50 EUR"``.

        Locale-aware formatting (symbols, separators) is the application's: pass ``amount`` and
        ``currency`` to e.g. Babel's ``format_currency``.
        """
        return f"{self.amount:{',' if grouping else ''}f} {self.currency}"

    def __str__(self) -> str:
        return self.format()

    def _same(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, operation)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "add")
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "subtract")
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __bool__(self) -> bool:
        return self.minor != 0

    def __lt__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor >= other.minor

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """The sum of ``amounts`` (zero for none), all in ``currency``.

        Raises:
            CurrencyMismatchError: an amount is in another currency.
        """
        result = cls(0, currency)
        for amount in amounts:
            result += amount
        return result
