"""Money arithmetic in one place: `Decimal` only, never float, rounded half-up to the cent.

Amounts carry an explicit ISO 4217 currency code next to them in every model. Conversion uses a
rate recorded on the proposal ("1 unit of the line's currency is worth `rate` units of the fund's
currency"); totals are converted per currency and then added, so a total never depends on the
order of its lines.

Products and sums are exact: they are computed with 100 significant digits, far more than the
largest values the models allow need (a 12-digit quantity times a 14-digit unit cost times an
18-digit rate), where Decimal's default 28 digits would round them or fail. Only `quantize`
rounds, half up to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")
ZERO = Decimal("0.00")
# No rate between the portal's currencies comes near it (EUR to LAK is some 25,000). Larger rates
# are refused where rates are typed: they are mistakes, and SQLite (development) keeps only 15
# significant digits of the rate's 18.
MAX_RATE = Decimal("1000000")
EXACT = Context(prec=100, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])

CURRENCIES = {
    "EUR": "Euro",
    "USD": "US dollar",
    "KHR": "Cambodian riel",
    "LAK": "Lao kip",
    "THB": "Thai baht",
}
CURRENCY_CHOICES = [(code, f"{code} – {name}") for code, name in CURRENCIES.items()]


class MoneyError(ValueError):
    """An amount or rate that cannot be money (float, NaN, infinite, negative rate)."""


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Turn an int, str or Decimal into a finite Decimal. Floats are refused outright."""
    if isinstance(value, float):
        raise MoneyError("Money must never be a float.")
    if isinstance(value, bool):
        raise MoneyError("A boolean is not an amount.")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"{value!r} is not a number.") from exc
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite number.")
    return result


def quantize(amount: Decimal | int | str) -> Decimal:
    """Round to the cent, half up (the way an accountant rounds)."""
    try:
        return to_decimal(amount).quantize(CENT, context=EXACT)
    except InvalidOperation as exc:
        raise MoneyError(f"{amount!r} is too large to be an amount.") from exc


def line_total(quantity: Decimal | int | str, unit_cost: Decimal | int | str) -> Decimal:
    return quantize(EXACT.multiply(to_decimal(quantity), to_decimal(unit_cost)))


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    rate = to_decimal(rate)
    if rate <= 0:
        raise MoneyError("An exchange rate must be positive.")
    return quantize(EXACT.multiply(to_decimal(amount), rate))


def add(*amounts: Decimal | int | str) -> Decimal:
    """The exact sum (never rounded)."""
    total = ZERO
    for amount in amounts:
        total = EXACT.add(total, to_decimal(amount))
    return total


def totals_by_currency(lines: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum (currency, amount) pairs per currency, exactly."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for currency, amount in lines:
        totals[currency] = add(totals[currency], amount)
    return dict(totals)


def total_in(
    target_currency: str,
    amounts: dict[str, Decimal],
    rates: dict[str, Decimal],
) -> Decimal:
    """Convert each per-currency subtotal at its rate, then add. Raises KeyError-free MoneyError
    when a currency has no recorded rate."""
    total = ZERO
    for currency, amount in amounts.items():
        if currency == target_currency:
            total = add(total, quantize(amount))
            continue
        rate = rates.get(currency)
        if rate is None:
            raise MoneyError(f"No exchange rate recorded for {currency} to {target_currency}.")
        total = add(total, convert(amount, rate))
    return quantize(total)


def format_money(amount: Decimal, currency: str) -> str:
    return f"{currency} {quantize(amount):,.2f}"
