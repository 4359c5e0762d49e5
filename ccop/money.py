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


# How amounts are written, per language: one way in pages, PDFs, spreadsheets' text cells and
# e-mails alike (`format_money`, and the `money`, `amount` and `rate` template filters of
# ccop/templatetags/money.py). Cambodian and Lao budgets, bank statements and donor reports write
# 1,234.56, and so do we in every language: Django's Khmer number format (1.234,56) had put
# "USD 100,00" next to "USD 1,000.00" on one page, and a decimal comma is read as a thousands
# separator in a budget. ccop/formats/{km,lo} give Django the same separators (forms, admin).
NUMBER_FORMATS = {  # language -> (thousands separator, decimal separator)
    "en": (",", "."),
    "km": (",", "."),
    "lo": (",", "."),
}
RATE_MAX_PLACES = 8  # an exchange rate is written with up to 8 decimals, trailing zeros dropped


def _separators(language: str | None) -> tuple[str, str]:
    from django.utils.translation import get_language

    language = (language or get_language() or "en").split("-")[0]
    return NUMBER_FORMATS.get(language, NUMBER_FORMATS["en"])


def _grouped(number: Decimal, places: int, language: str | None) -> str:
    thousands, decimal = _separators(language)
    text = f"{number:,.{places}f}"
    return text.translate(str.maketrans({",": thousands, ".": decimal}))


def format_amount(amount: Decimal | int | str, *, language: str | None = None) -> str:
    """An amount to the cent with thousands separators: '4,324.00' (no currency)."""
    return _grouped(quantize(amount), 2, language)


def format_money(amount: Decimal | int | str, currency: str, *, language: str | None = None) -> str:
    """An amount with its currency code first: 'EUR 4,324.00', 'KHR 400,000.00'."""
    return f"{currency} {format_amount(amount, language=language)}"


def format_rate(rate: Decimal | int | str, *, language: str | None = None) -> str:
    """An exchange rate with the decimals it has (up to 8) and thousands separators:
    '0.00023', '4,100', '1.08'."""
    value = to_decimal(rate).quantize(Decimal(1).scaleb(-RATE_MAX_PLACES), context=EXACT).normalize(EXACT)
    places = max(0, -value.as_tuple().exponent)
    return _grouped(value, places, language)
