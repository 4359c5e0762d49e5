"""Properties of the budget arithmetic, over the whole range the models allow (tests/test_money.py
holds the basic properties of `ccop.money` at everyday sizes).

What the code promises (ccop/money.py, docs/domain.md):
- every amount is a `Decimal`, never a float; floats, NaN and infinities are refused;
- a line total is quantity × unit cost rounded half up to the cent; a budget's subtotals are the
  exact sums of the rounded line totals, whichever way they are grouped;
- a total in the fund's currency converts each currency's subtotal once at its recorded rate,
  rounds it half up to the cent and adds; it does not depend on the order of the lines;
- products and sums are exact: the largest values the fields allow (a 12-digit quantity, a
  14-digit unit cost, a rate up to 1,000,000 with 8 decimals) neither round early nor fail;
- what the budget import reads is what the budget then holds, to the cent.

The oracle is `fractions.Fraction`, independent of `decimal`'s contexts.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ccop import money
from ccop.money import MoneyError
from grants.models import Fund
from proposals import services, spreadsheets
from proposals.forms import ActivityChoices, BudgetLineForm, RatesForm
from proposals.models import BudgetLine, ExchangeRate, Proposal
from proposals.selectors import budget_summary

CURRENCIES = sorted(money.CURRENCIES)
CATEGORIES = [code for code, _label in BudgetLine.Category.choices]

# The fields' own limits: quantity max_digits=12, unit cost 14, both with 2 places; a rate is
# positive, at most money.MAX_RATE, with 8 places.
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2)
unit_costs = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("999999999999.99"), places=2)
rates = st.decimals(min_value=Decimal("0.00000001"), max_value=money.MAX_RATE, places=8)
everyday_rates = st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("30000"), places=8)
line_totals = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("9999999999989900000000.00"), places=2)
# (the largest line total: 9,999,999,999.99 x 999,999,999,999.99 rounded to the cent)

SETTINGS = settings(deadline=None, max_examples=150)


def cents(exact: Fraction) -> Decimal:
    """Round half up (ties away from zero) to the cent, as a Decimal built from digits."""
    n = math.floor(abs(exact) * 100 + Fraction(1, 2))
    return Decimal(f"{'-' if exact < 0 and n else ''}{n // 100}.{n % 100:02d}")


def is_cents(value) -> bool:
    return type(value) is Decimal and value.is_finite() and value.as_tuple().exponent == -2


@st.composite
def budget_lines(draw, min_size=0, max_size=30):
    """Unsaved budget lines as an edit page would hold them: any category, currency and activity."""
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(CATEGORIES),
                st.sampled_from(CURRENCIES),
                st.sampled_from([None, 1, 2, 3]),
                quantities,
                unit_costs,
            ),
            min_size=min_size,
            max_size=max_size,
        )
    )
    return [
        BudgetLine(category=c, currency=cur, activity_id=a, quantity=q, unit_cost=u)
        for c, cur, a, q, u in rows
    ]


def an_unsaved_proposal(currency: str) -> Proposal:
    return Proposal(fund=Fund(currency=currency))


# --------------------------------------------------------------------------- one line, one conversion


MAX_QUANTITY, MAX_UNIT_COST, MAX_LINE_TOTAL = (
    Decimal("9999999999.99"),
    Decimal("999999999999.99"),
    Decimal("9999999999989900000000.00"),
)


@SETTINGS
@given(quantity=quantities, unit_cost=unit_costs, rate=rates)
@example(quantity=MAX_QUANTITY, unit_cost=MAX_UNIT_COST, rate=money.MAX_RATE)
@example(quantity=MAX_QUANTITY, unit_cost=MAX_UNIT_COST, rate=Decimal("999999.99999999"))
@example(quantity=Decimal("3333333333.33"), unit_cost=Decimal("777777777777.77"), rate=Decimal("0.00000001"))
def test_a_line_converted_at_any_rate_the_fields_allow_is_exact_then_rounded_once(quantity, unit_cost, rate):
    total = money.line_total(quantity, unit_cost)
    converted = money.convert(total, rate)

    assert total == cents(Fraction(quantity) * Fraction(unit_cost))
    assert converted == cents(Fraction(total) * Fraction(rate))
    assert is_cents(total) and is_cents(converted)


@SETTINGS
@given(amount=line_totals, sign=st.sampled_from([1, -1]))
def test_ties_go_away_from_zero_at_every_size(amount, sign):
    exact = money.EXACT  # the test's own sums must not round at 28 digits either
    tie = exact.multiply(sign, exact.add(amount, Decimal("0.005")))
    below = exact.multiply(sign, exact.add(amount, Decimal("0.00499999")))

    assert money.quantize(tie) == exact.multiply(sign, exact.add(amount, Decimal("0.01")))
    assert money.quantize(below) == exact.multiply(sign, amount)


@SETTINGS
@given(amount=line_totals, rate=rates)
@example(amount=MAX_LINE_TOTAL, rate=Decimal("999999.99999999"))
@example(amount=MAX_LINE_TOTAL, rate=Decimal("0.00012345"))
def test_converting_there_and_back_stays_within_the_documented_rounding(amount, rate):
    """Converting at `rate`, then back at the reciprocal rate a person would record (8 places):
    each step rounds half up to the cent once, and the recorded reciprocal is off by at most
    half a unit of its last place."""
    back_rate = Decimal(cents_of_rate(1 / Fraction(rate)))
    assume(back_rate > 0)
    there = money.convert(amount, rate)
    back = money.convert(there, back_rate)

    error = abs(Fraction(back) - Fraction(amount))
    bound = Fraction(amount) * Fraction(rate) * Fraction(1, 2 * 10**8) + Fraction(1, 200) * Fraction(
        back_rate
    )
    assert error <= bound + Fraction(1, 200)


def cents_of_rate(exact: Fraction) -> str:
    """A rate rounded half up to 8 places, as a person records it."""
    n = math.floor(exact * 10**8 + Fraction(1, 2))
    return f"{n // 10**8}.{n % 10**8:08d}"


@SETTINGS
@given(amount=line_totals, rate=rates)
@example(amount=MAX_LINE_TOTAL - Decimal("0.01"), rate=Decimal("999999.99999999"))
def test_conversion_keeps_the_order_of_amounts(amount, rate):
    assert money.convert(amount, rate) <= money.convert(amount + Decimal("0.01"), rate)


# --------------------------------------------------------------------------- a budget's totals


@SETTINGS
@given(
    lines=budget_lines(),
    fund_currency=st.sampled_from(CURRENCIES),
    rate_table=st.fixed_dictionaries(dict.fromkeys(CURRENCIES, rates)),
)
def test_every_subtotal_is_the_exact_sum_of_the_rounded_line_totals(lines, fund_currency, rate_table):
    summary = budget_summary(an_unsaved_proposal(fund_currency), lines=lines, rates=rate_table)

    expected: dict[str, Fraction] = {}
    for line in lines:
        expected[line.currency] = expected.get(line.currency, Fraction(0)) + Fraction(
            cents(Fraction(line.quantity) * Fraction(line.unit_cost))
        )
    assert {c: Fraction(v) for c, v in summary.by_currency.items()} == expected
    assert summary.line_count == len(lines)
    for grouping in (summary.by_category, summary.by_activity):
        regrouped: dict[str, Fraction] = {}
        for amounts in grouping.values():
            for currency, amount in amounts.items():
                assert type(amount) is Decimal
                regrouped[currency] = regrouped.get(currency, Fraction(0)) + Fraction(amount)
        assert regrouped == expected
    for amount in summary.by_currency.values():
        assert is_cents(amount)


@SETTINGS
@given(
    lines=budget_lines(min_size=1),
    fund_currency=st.sampled_from(CURRENCIES),
    rate_table=st.fixed_dictionaries(dict.fromkeys(CURRENCIES, rates)),
    data=st.data(),
)
def test_the_total_in_the_fund_currency_converts_each_currency_once_in_any_order(
    lines, fund_currency, rate_table, data
):
    proposal = an_unsaved_proposal(fund_currency)
    summary = budget_summary(proposal, lines=lines, rates=rate_table)
    shuffled = budget_summary(proposal, lines=data.draw(st.permutations(lines)), rates=rate_table)

    expected = Fraction(0)
    for currency, amount in summary.by_currency.items():
        if currency == fund_currency:
            expected += Fraction(amount)
        else:
            expected += Fraction(cents(Fraction(amount) * Fraction(rate_table[currency])))
    total = summary.total_in_fund_currency
    assert total == shuffled.total_in_fund_currency == cents(expected)
    assert is_cents(total)


@SETTINGS
@given(
    lines=budget_lines(min_size=1),
    fund_currency=st.sampled_from(CURRENCIES),
    rate_table=st.fixed_dictionaries(dict.fromkeys(CURRENCIES, everyday_rates)),
)
def test_converted_subtotals_differ_from_the_total_by_their_roundings_only(lines, fund_currency, rate_table):
    """The page shows each category converted on its own: their sum may differ from the total,
    never by more than half a cent per conversion made."""
    summary = budget_summary(an_unsaved_proposal(fund_currency), lines=lines, rates=rate_table)
    parts = [summary.convert_group(amounts) for amounts in summary.by_category.values()]
    conversions = sum(len(a) for a in summary.by_category.values()) + len(summary.by_currency)

    assert all(is_cents(part) for part in parts)
    assert abs(sum(parts, Decimal(0)) - summary.total_in_fund_currency) <= Decimal("0.005") * conversions


@SETTINGS
@given(lines=budget_lines(min_size=1), fund_currency=st.sampled_from(CURRENCIES))
def test_a_missing_rate_gives_no_total_rather_than_a_wrong_one(lines, fund_currency):
    summary = budget_summary(an_unsaved_proposal(fund_currency), lines=lines, rates={})
    others = {line.currency for line in lines} - {fund_currency}

    assert summary.missing_rates == sorted(others)
    assert (summary.total_in_fund_currency is None) == bool(others)


@SETTINGS
@given(amounts=st.lists(st.tuples(st.sampled_from(CURRENCIES), line_totals), max_size=50))
def test_sums_are_exact_however_large(amounts):
    totals = money.totals_by_currency(amounts)

    for currency in {c for c, _a in amounts}:
        assert Fraction(totals[currency]) == sum(Fraction(a) for c, a in amounts if c == currency)
    assert Fraction(money.add(*(a for _c, a in amounts))) == sum(Fraction(a) for _c, a in amounts)


@SETTINGS
@given(
    amount=st.decimals(min_value=Decimal("-1e30"), max_value=Decimal("1e30"), places=2),
    currency=st.sampled_from(CURRENCIES),
)
def test_the_shown_amount_reads_back_as_the_amount(amount, currency):
    shown = money.format_money(amount, currency)
    code, number = shown.split(" ")

    assert code == currency
    assert Decimal(number.replace(",", "")) == amount
    assert "e" not in number.lower()


# --------------------------------------------------------------------------- what is refused


@SETTINGS
@given(value=st.floats(allow_nan=True, allow_infinity=True), currency=st.sampled_from(CURRENCIES))
def test_a_float_is_refused_by_every_sum_and_conversion(value, currency):
    with pytest.raises(MoneyError):
        money.totals_by_currency([(currency, Decimal("1.00")), (currency, value)])
    with pytest.raises(MoneyError):
        money.add(Decimal("1.00"), value)
    with pytest.raises(MoneyError):
        money.total_in("EUR", {"USD": Decimal("1.00")}, {"USD": value})
    with pytest.raises(MoneyError):
        money.total_in("EUR", {"EUR": value}, {})
    with pytest.raises(MoneyError):
        money.format_money(value, currency)


@pytest.mark.parametrize("value", ["9e999999999999999999", "-1e100000", Decimal("1E+999999")])
def test_an_amount_too_large_to_round_is_a_money_error(value):
    assert money.to_decimal(value).is_finite()
    with pytest.raises(MoneyError, match="too large"):
        money.quantize(value)


def _line_form(quantity: str, unit_cost: str) -> BudgetLineForm:
    return BudgetLineForm(
        data={
            "category": "meals",
            "description": "Lunch",
            "unit": "person",
            "quantity": quantity,
            "unit_cost": unit_cost,
            "currency": "EUR",
        },
        category_choices=BudgetLine.Category.choices,
        currency_choices=[("EUR", "EUR")],
        activity_choices=ActivityChoices([]),
        default_currency="EUR",
    )


typed_numbers = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="0123456789.,-+eE_ naNifty", max_size=30),
)


@settings(deadline=None, max_examples=300)
@given(quantity=typed_numbers, unit_cost=typed_numbers)
def test_the_edit_page_keeps_only_exact_amounts_within_the_fields(quantity, unit_cost):
    form = _line_form(quantity, unit_cost)
    if not form.is_valid():
        return
    q, u = form.cleaned_data["quantity"], form.cleaned_data["unit_cost"]
    for value, low, high in ((q, Decimal("0.01"), Decimal("1e10")), (u, Decimal("0"), Decimal("1e12"))):
        assert type(value) is Decimal and value.is_finite()
        assert low <= value < high
        assert value == value.quantize(money.CENT)
    assert Fraction(q) == Fraction(Decimal(quantity.strip().replace("_", "")))  # as typed, not via float


@settings(deadline=None, max_examples=200)
@given(rate=typed_numbers)
def test_the_edit_page_keeps_only_positive_rates_up_to_the_maximum(rate):
    form = RatesForm(data={"rate_USD": rate}, currencies=["USD"], fund_currency="EUR")
    if form.is_valid() and form.cleaned_data["rate_USD"] is not None:
        value = form.cleaned_data["rate_USD"]
        assert type(value) is Decimal and 0 < value <= money.MAX_RATE
        assert value == value.quantize(Decimal("0.00000001"))


@SETTINGS
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.text(max_size=20),
        st.booleans(),
    )
)
def test_the_import_reads_a_cell_as_a_decimal_or_not_at_all(value):
    number = spreadsheets._number(value)
    if number is None:
        return
    assert type(number) is Decimal and number.is_finite()
    if isinstance(value, float):
        assert number == Decimal(repr(value))  # the shortest repr: 1234.56 stays 1234.56
    elif isinstance(value, str):
        assert number == Decimal(value.strip().replace("\u00a0", "").replace(" ", ""))
    else:
        assert number == value and not isinstance(value, bool)


@SETTINGS
@given(amount=st.decimals(min_value=Decimal("0"), max_value=Decimal("999999999999.99"), places=2))
def test_an_amount_typed_in_excel_is_read_to_the_cent(amount):
    """XLSX keeps numbers as doubles; every amount of at most 15 digits comes back exactly."""
    assert spreadsheets._number(float(amount)) == amount


# --------------------------------------------------------------------------- through the database

DB_SETTINGS = settings(
    deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def draft(db):
    from tests.factories import ready_proposal

    return ready_proposal()


@pytest.mark.django_db
@DB_SETTINGS
@given(rate=rates, amount=line_totals)
def test_a_recorded_rate_reads_back_exactly_and_converts_as_recorded(draft, rate, amount):
    """On PostgreSQL and on SQLite (which keeps 15 significant digits: a rate up to 1,000,000
    with 8 places has at most 15)."""
    proposal, staff = draft
    services.exchange_rate_set(proposal=proposal, acting_user=staff[0], currency="USD", rate=rate)
    stored = ExchangeRate.objects.get(proposal=proposal, currency="USD").rate

    assert type(stored) is Decimal and stored == rate
    assert money.convert(amount, stored) == cents(Fraction(amount) * Fraction(rate))


@pytest.mark.django_db
@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(CATEGORIES),
            st.sampled_from(["EUR", "USD", "KHR"]),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_what_the_import_previews_is_what_the_budget_then_holds(draft, rows):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.proposals.test_budget_import import xlsx

    proposal, staff = draft
    content = xlsx(
        [[c, f"Line {i}", "unit", float(q), float(u), cur, None] for i, (c, cur, q, u) in enumerate(rows)]
    )
    preview = spreadsheets.read_budget_upload(SimpleUploadedFile("b.xlsx", content), proposal=proposal)
    assert preview.is_valid, [str(e) for e in preview.errors]
    for row, (_c, _cur, q, u) in zip(preview.rows, rows, strict=True):
        assert Decimal(row["quantity"]) == q and Decimal(row["unit_cost"]) == u
        assert Decimal(row["total"]) == cents(Fraction(q) * Fraction(u))

    services.budget_import_apply(
        proposal=proposal,
        acting_user=staff[0],
        rows=spreadsheets.preview_rows_for_service(preview.rows),
        mode="replace",
    )
    saved = budget_summary(proposal)
    assert saved.by_currency == preview.totals_by_currency()
    assert saved.line_count == len(rows)
