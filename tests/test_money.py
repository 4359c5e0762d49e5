"""Properties of the money module: Decimal only, half-up to the cent, order-independent totals."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccop import money
from ccop.money import MoneyError

CURRENCIES = sorted(money.CURRENCIES)

quantities = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("9999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
unit_costs = st.decimals(
    min_value=Decimal("0.00"),
    max_value=Decimal("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
fine_amounts = st.decimals(
    min_value=Decimal("-1000000"),
    max_value=Decimal("1000000"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)
cent_amounts = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
rates = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("50000"), places=6, allow_nan=False, allow_infinity=False
)


# Every property below runs with deadline=None: pure arithmetic, and a loaded CI runner must not
# turn a slow example into a flaky failure.


def half_up_cents(exact: Fraction) -> Decimal:
    """An oracle independent of `decimal` rounding: round |x| to cents, ties away from zero."""
    sign = -1 if exact < 0 else 1
    cents = math.floor(abs(exact) * 100 + Fraction(1, 2))
    return Decimal(sign * cents) / 100


# --------------------------------------------------------------------------- line_total, quantize


@settings(deadline=None)
@given(quantity=quantities, unit_cost=unit_costs)
def test_line_total_is_the_product_rounded_half_up_to_the_cent(quantity, unit_cost):
    total = money.line_total(quantity, unit_cost)

    assert total.as_tuple().exponent == -2
    assert total == half_up_cents(Fraction(quantity) * Fraction(unit_cost))
    assert abs(total - quantity * unit_cost) <= Decimal("0.005")


@settings(deadline=None)
@given(amount=fine_amounts)
def test_quantize_rounds_half_up_to_two_places(amount):
    result = money.quantize(amount)

    assert result.as_tuple().exponent == -2
    assert result == half_up_cents(Fraction(amount))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("2.675", "2.68"),
        ("-0.005", "-0.01"),
        ("0.0049", "0.00"),
    ],
)
def test_quantize_ties_go_up(amount, expected):
    assert money.quantize(Decimal(amount)) == Decimal(expected)


def test_line_total_accepts_ints_and_strings():
    assert money.line_total(3, "33.33") == Decimal("99.99")
    assert money.line_total("0.5", "0.05") == Decimal("0.03")


# --------------------------------------------------------------------------- totals


lines_strategy = st.lists(st.tuples(st.sampled_from(CURRENCIES), cent_amounts), min_size=1, max_size=40)
rates_strategy = st.fixed_dictionaries(dict.fromkeys(CURRENCIES, rates))


@settings(deadline=None)
@given(lines=lines_strategy, rate_table=rates_strategy, target=st.sampled_from(CURRENCIES), data=st.data())
def test_total_in_does_not_depend_on_the_order_of_the_lines(lines, rate_table, target, data):
    shuffled = data.draw(st.permutations(lines))

    total = money.total_in(target, money.totals_by_currency(lines), rate_table)

    assert money.total_in(target, money.totals_by_currency(shuffled), rate_table) == total
    assert total.as_tuple().exponent == -2


@settings(deadline=None)
@given(lines=st.lists(cent_amounts, max_size=40))
def test_total_in_the_same_currency_is_the_exact_sum(lines):
    totals = money.totals_by_currency(("EUR", amount) for amount in lines)

    assert money.total_in("EUR", totals, {}) == money.quantize(sum(lines, Decimal("0")))


@settings(deadline=None)
@given(amount=cent_amounts)
def test_total_in_refuses_a_currency_without_a_rate(amount):
    with pytest.raises(MoneyError, match="USD"):
        money.total_in("EUR", {"EUR": Decimal("1.00"), "USD": amount}, {})


def test_total_in_converts_each_currency_subtotal_then_adds():
    totals = money.totals_by_currency([("USD", Decimal("0.01"))] * 3 + [("EUR", Decimal("1.00"))])

    # USD 0.03 x 0.5 = 0.015 -> 0.02, converted once per currency rather than per line
    assert money.total_in("EUR", totals, {"USD": Decimal("0.5")}) == Decimal("1.02")


# --------------------------------------------------------------------------- refusals


@settings(deadline=None)
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_refused_everywhere(value):
    with pytest.raises(MoneyError):
        money.to_decimal(value)
    with pytest.raises(MoneyError):
        money.quantize(value)
    with pytest.raises(MoneyError):
        money.line_total(value, Decimal("1"))
    with pytest.raises(MoneyError):
        money.line_total(Decimal("1"), value)
    with pytest.raises(MoneyError):
        money.convert(value, Decimal("1"))
    with pytest.raises(MoneyError):
        money.convert(Decimal("1"), value)


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
    ],
    ids=str,
)
def test_nan_and_infinity_are_refused(value):
    with pytest.raises(MoneyError):
        money.to_decimal(value)
    with pytest.raises(MoneyError):
        money.quantize(value)
    with pytest.raises(MoneyError):
        money.line_total(value, 1)
    with pytest.raises(MoneyError):
        money.convert(value, Decimal("1"))
    with pytest.raises(MoneyError):
        money.convert(Decimal("1"), value)


@pytest.mark.parametrize("value", [True, False, "", "twelve", "1,000.00", None])
def test_values_that_are_not_amounts_are_refused(value):
    with pytest.raises(MoneyError):
        money.to_decimal(value)


@pytest.mark.parametrize("rate", [Decimal("0"), Decimal("-0.92"), 0, "-1"])
def test_a_rate_must_be_positive(rate):
    with pytest.raises(MoneyError):
        money.convert(Decimal("10.00"), rate)


# --------------------------------------------------------------------------- convert


@settings(deadline=None)
@given(amount=cent_amounts, one=st.sampled_from([Decimal("1"), Decimal("1.000000"), 1, "1"]))
def test_convert_at_rate_one_is_the_identity(amount, one):
    assert money.convert(amount, one) == amount


@settings(deadline=None)
@given(amount=cent_amounts, rate=rates)
def test_convert_is_the_product_rounded_half_up(amount, rate):
    result = money.convert(amount, rate)

    assert result.as_tuple().exponent == -2
    assert result == half_up_cents(Fraction(amount) * Fraction(rate))


def test_convert_at_092():
    assert money.convert(Decimal("99.99"), Decimal("0.92")) == Decimal("91.99")
    assert money.convert(Decimal("106.12"), Decimal("0.92")) == Decimal("97.63")


def test_format_money():
    assert money.format_money(Decimal("1234.5"), "EUR") == "EUR 1,234.50"
    assert money.format_money(Decimal("0.005"), "USD") == "USD 0.01"
