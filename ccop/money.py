"""Money arithmetic in one place: `Decimal` only, never float, rounded half-up to the cent.

Amounts carry an explicit ISO 4217 currency code next to them in every model. Conversion uses a
rate recorded on the proposal ("1 unit of the line's currency is worth `rate` units of the fund's
currency"); totals are converted per currency and then added, so a total never depends on the
order of its lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")
ZERO = Decimal("0.00")

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
    return to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(quantity: Decimal | int | str, unit_cost: Decimal | int | str) -> Decimal:
    return quantize(to_decimal(quantity) * to_decimal(unit_cost))


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    rate = to_decimal(rate)
    if rate <= 0:
        raise MoneyError("An exchange rate must be positive.")
    return quantize(to_decimal(amount) * rate)


def totals_by_currency(lines: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum (currency, amount) pairs per currency."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for currency, amount in lines:
        totals[currency] += to_decimal(amount)
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
            total += quantize(amount)
            continue
        rate = rates.get(currency)
        if rate is None:
            raise MoneyError(f"No exchange rate recorded for {currency} to {target_currency}.")
        total += convert(amount, rate)
    return quantize(total)


def format_money(amount: Decimal, currency: str) -> str:
    return f"{currency} {quantize(amount):,.2f}"
