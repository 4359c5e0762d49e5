"""Funds and grants: the cap and ceiling check and `grant_award`, the only way a grant is made."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ccop.errors import RuleViolation
from grants.models import Fund, Grant
from grants.services import fund_check_amount, grant_award
from tests.factories import FacilitatorFactory, FundFactory, ready_proposal

pytestmark = pytest.mark.django_db

D = Decimal


def award(fund: Fund, amount: str, person=None) -> Grant:
    proposal, staff = ready_proposal(fund=fund)
    return grant_award(fund_id=fund.pk, proposal=proposal, amount=D(amount), acting_user=person or staff[0])


# --------------------------------------------------------------------------- fund_check_amount


@pytest.mark.parametrize("amount", ["0", "0.004", "-5"])
def test_an_amount_that_is_not_positive_is_refused(amount):
    fund = FundFactory()

    with pytest.raises(RuleViolation) as excinfo:
        fund_check_amount(fund=fund, amount=D(amount))

    assert excinfo.value.code == "amount_not_positive"


def test_an_amount_over_the_cap_per_proposal_is_refused_with_the_cap():
    fund = FundFactory(per_proposal_cap=D("5000.00"))

    fund_check_amount(fund=fund, amount=D("5000.00"))
    with pytest.raises(RuleViolation) as excinfo:
        fund_check_amount(fund=fund, amount=D("5000.01"))

    assert excinfo.value.code == "over_cap"
    assert "EUR 5,000.00" in excinfo.value.messages[0]


def test_an_amount_over_what_remains_is_refused_with_the_remaining_balance():
    fund = FundFactory(ceiling=D("10000.00"))

    fund_check_amount(fund=fund, amount=D("500.00"), approved_total=D("9500.00"))
    with pytest.raises(RuleViolation) as excinfo:
        fund_check_amount(fund=fund, amount=D("500.01"), approved_total=D("9500.00"))

    assert excinfo.value.code == "over_ceiling"
    assert "only EUR 500.00 remains" in excinfo.value.messages[0]
    assert "EUR 10,000.00" in excinfo.value.messages[0]


def test_the_check_reads_the_committed_total_when_none_is_given():
    fund = FundFactory(ceiling=D("1000.00"))
    award(fund, "600.00")

    with pytest.raises(RuleViolation) as excinfo:
        fund_check_amount(fund=fund, amount=D("400.01"))

    assert "EUR 400.00" in excinfo.value.messages[0]


# --------------------------------------------------------------------------- grant_award


def test_grant_award_writes_the_grant_in_the_fund_currency():
    fund = FundFactory(currency="EUR")
    person = FacilitatorFactory()
    proposal, _staff = ready_proposal(fund=fund)

    grant = grant_award(fund_id=fund.pk, proposal=proposal, amount=D("1234.565"), acting_user=person)

    grant.refresh_from_db()
    assert grant.amount == D("1234.57")  # half up to the cent
    assert grant.currency == "EUR"
    assert grant.fund == fund
    assert grant.proposal == proposal
    assert grant.approved_by == person
    assert Grant.history.get(id=grant.pk).history_user == person


def test_grant_award_over_the_ceiling_writes_nothing():
    fund = FundFactory(ceiling=D("1000.00"))
    award(fund, "700.00")
    proposal, staff = ready_proposal(fund=fund)

    with pytest.raises(RuleViolation) as excinfo:
        grant_award(fund_id=fund.pk, proposal=proposal, amount=D("300.01"), acting_user=staff[0])

    assert excinfo.value.code == "over_ceiling"
    assert "EUR 300.00" in excinfo.value.messages[0]
    assert not Grant.objects.filter(proposal=proposal).exists()
    assert fund.approved_total() == D("700.00")


def test_grant_award_over_the_cap_writes_nothing():
    fund = FundFactory(per_proposal_cap=D("800.00"))
    proposal, staff = ready_proposal(fund=fund)

    with pytest.raises(RuleViolation) as excinfo:
        grant_award(fund_id=fund.pk, proposal=proposal, amount=D("800.01"), acting_user=staff[0])

    assert excinfo.value.code == "over_cap"
    assert not Grant.objects.exists()


def test_grants_fill_the_fund_up_to_exactly_its_ceiling():
    fund = FundFactory(ceiling=D("1000.00"))
    award(fund, "600.00")
    award(fund, "400.00")

    assert fund.approved_total() == D("1000.00")
    assert fund.remaining() == D("0.00")
    with pytest.raises(RuleViolation):
        award(fund, "0.01")


def test_grants_of_another_fund_do_not_count_against_the_ceiling():
    fund = FundFactory(ceiling=D("1000.00"))
    other = FundFactory(ceiling=D("5000.00"))
    award(other, "4000.00")

    grant = award(fund, "1000.00")

    assert grant.amount == D("1000.00")
    assert fund.remaining() == D("0.00")
    assert other.remaining() == D("1000.00")


# --------------------------------------------------------------------------- Fund


def test_approved_total_and_remaining_are_derived_from_the_grants():
    fund = FundFactory(ceiling=D("50000.00"))
    assert fund.approved_total() == D("0.00")
    assert fund.remaining() == D("50000.00")

    award(fund, "1250.50")
    award(fund, "749.50")

    assert fund.approved_total() == D("2000.00")
    assert fund.remaining() == D("48000.00")


def test_a_fund_is_open_from_its_opening_to_its_closing_day_inclusive():
    today = timezone.localdate()
    fund = FundFactory(opens_on=today, closes_on=today + datetime.timedelta(days=10))

    assert fund.is_open()
    assert fund.is_open(today + datetime.timedelta(days=10))
    assert not fund.is_open(today - datetime.timedelta(days=1))
    assert not fund.is_open(today + datetime.timedelta(days=11))


def test_accepted_currencies_always_include_the_fund_currency_first():
    fund = FundFactory.build(currency="EUR", accepted_currencies=" usd, khr ,")

    assert fund.accepted_currency_list == ["EUR", "USD", "KHR"]


def test_fund_clean_refuses_inconsistent_settings():
    today = timezone.localdate()
    fund = FundFactory.build(
        ceiling=D("1000.00"),
        per_proposal_cap=D("2000.00"),
        opens_on=today,
        closes_on=today - datetime.timedelta(days=1),
        accepted_currencies="EUR,XYZ",
    )

    with pytest.raises(ValidationError) as excinfo:
        fund.clean()

    assert set(excinfo.value.message_dict) == {"per_proposal_cap", "closes_on", "accepted_currencies"}
    assert "XYZ" in excinfo.value.message_dict["accepted_currencies"][0]


@pytest.mark.parametrize(
    "fields",
    [
        {"ceiling": D("0.00")},
        {"per_proposal_cap": D("0.00")},
        {"closes_on": timezone.localdate() - datetime.timedelta(days=365)},
    ],
    ids=["ceiling_positive", "cap_positive", "dates_in_order"],
)
def test_the_database_refuses_an_impossible_fund(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        FundFactory(**fields)
