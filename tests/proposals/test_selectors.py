"""Selectors: what each person may see (DESIGN rule 6) and the derived budget summary."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from ccop.models import User
from proposals import services
from proposals.models import BudgetLine, ExchangeRate, Proposal
from proposals.selectors import budget_summary, proposals_for_user
from tests.factories import (
    CommitteeMemberFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    StaffFactory,
    UserFactory,
    grantee_with_staff,
    ready_proposal,
)

pytestmark = pytest.mark.django_db

D = Decimal


def laos():
    return CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")


def visible(user) -> set[int]:
    return set(proposals_for_user(user).values_list("pk", flat=True))


# --------------------------------------------------------------------------- proposals_for_user


def test_grantee_staff_of_an_organisation_outside_the_cop_sees_nothing():
    proposal, _staff = ready_proposal()
    outsider = StaffFactory(organisation__country_programme=proposal.cop.country_programme)

    assert visible(outsider) == set()


def test_staff_of_a_member_organisation_see_the_cop_proposal():
    proposal, staff = ready_proposal()
    member_not_applicant = grantee_with_staff(proposal.cop)

    assert visible(member_not_applicant) == {proposal.pk}
    assert visible(staff[0]) == {proposal.pk}


def test_grantee_staff_see_only_their_own_cops_proposals():
    mine, staff = ready_proposal()
    other, _other_staff = ready_proposal()

    assert visible(staff[0]) == {mine.pk}
    assert other.pk not in visible(staff[1])


def test_a_facilitator_sees_the_proposals_of_their_programme_only():
    proposal, _staff = ready_proposal()
    own = FacilitatorFactory(country_programme=proposal.cop.country_programme)
    other = FacilitatorFactory(country_programme=laos())

    assert visible(own) == {proposal.pk}
    assert visible(other) == set()


def test_a_committee_member_sees_the_proposals_of_their_programme_only():
    proposal, _staff = ready_proposal()
    own = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    other = CommitteeMemberFactory(country_programme=laos())
    everywhere = CommitteeMemberFactory(country_programme=None)

    assert visible(own) == {proposal.pk}
    assert visible(other) == set()
    assert visible(everywhere) == {proposal.pk}


@pytest.mark.parametrize("who", ["anonymous", "inactive_applicant", "no_role", "no_organisation"])
def test_people_without_a_seat_see_nothing(who):
    proposal, staff = ready_proposal()
    if who == "anonymous":
        user = AnonymousUser()
    elif who == "inactive_applicant":
        user = staff[0]
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.refresh_from_db()
    elif who == "no_role":
        user = UserFactory(role="", organisation=staff[0].organisation)
    else:
        user = UserFactory(role=User.Role.GRANTEE_STAFF, organisation=None)

    assert proposals_for_user(user).count() == 0
    assert proposal.pk not in visible(user)


def test_a_superuser_sees_every_proposal():
    first, _ = ready_proposal()
    second, _ = ready_proposal()
    root = UserFactory(role="", is_superuser=True, is_staff=True)

    assert visible(root) == {first.pk, second.pk}


def test_an_out_of_scope_id_is_not_found_through_the_selector():
    proposal, _staff = ready_proposal()
    outsider = StaffFactory()

    with pytest.raises(Proposal.DoesNotExist):
        proposals_for_user(outsider).get(pk=proposal.pk)


# --------------------------------------------------------------------------- budget_summary


def _line(proposal, person, category, currency, quantity, unit_cost, activity=None):
    return services.budget_line_add(
        proposal=proposal,
        acting_user=person,
        activity=activity,
        category=category,
        description=f"{category} {currency}",
        unit="unit",
        quantity=D(quantity),
        unit_cost=D(unit_cost),
        currency=currency,
    )


def test_budget_summary_totals_by_currency_category_and_activity_in_decimal():
    proposal, staff = ready_proposal(amount=D("1000.00"))  # venue, EUR, on the first activity
    first = proposal.activities.get()
    second = services.activity_add(
        proposal=proposal, acting_user=staff[0], title="Training", agenda="All day"
    )
    C = BudgetLine.Category
    _line(proposal, staff[0], C.TRAVEL, "USD", "2", "50.00", activity=first)
    _line(proposal, staff[0], C.MEALS, "EUR", "20", "2.50")
    _line(proposal, staff[0], C.MEALS, "USD", "3", "33.33", activity=second)
    _line(proposal, staff[0], C.MATERIALS, "EUR", "0.5", "0.05", activity=second)  # 0.025 -> 0.03
    _line(proposal, staff[0], C.MEALS, "EUR", "2", "75.00", activity=first)

    summary = budget_summary(Proposal.objects.get(pk=proposal.pk))

    assert summary.line_count == 6
    assert summary.fund_currency == "EUR"
    assert summary.by_currency == {"EUR": D("1200.03"), "USD": D("199.99")}
    assert summary.by_category == {
        "venue": {"EUR": D("1000.00")},
        "travel": {"USD": D("100.00")},
        "meals": {"EUR": D("200.00"), "USD": D("99.99")},
        "materials": {"EUR": D("0.03")},
    }
    assert summary.by_activity == {
        first.pk: {"EUR": D("1150.00"), "USD": D("100.00")},
        None: {"EUR": D("50.00")},
        second.pk: {"USD": D("99.99"), "EUR": D("0.03")},
    }
    amounts = [
        *summary.by_currency.values(),
        *(v for group in summary.by_category.values() for v in group.values()),
        *(v for group in summary.by_activity.values() for v in group.values()),
    ]
    assert all(type(amount) is Decimal for amount in amounts)
    assert summary.missing_rates == ["USD"]
    assert summary.total_in_fund_currency is None

    with transaction.atomic():
        ExchangeRate.objects.create(proposal=proposal, currency="USD", rate=D("0.92"))
        services.proposal_record_edit(proposal=proposal, acting_user=staff[0])
    summary = budget_summary(Proposal.objects.get(pk=proposal.pk))

    assert summary.missing_rates == []
    # EUR 1200.03 + USD 199.99 x 0.92 (183.9908 -> 183.99)
    assert summary.total_in_fund_currency == D("1384.02")
    assert type(summary.total_in_fund_currency) is Decimal
    # EUR 200.00 + USD 99.99 x 0.92 (91.9908 -> 91.99)
    assert summary.convert_group(summary.by_category["meals"]) == D("291.99")


def test_budget_summary_of_a_proposal_without_lines_is_empty():
    proposal, staff = ready_proposal()
    proposal.budget_lines.all().delete()

    summary = budget_summary(Proposal.objects.get(pk=proposal.pk))

    assert summary.line_count == 0
    assert summary.by_currency == {}
    assert summary.total_in_fund_currency == D("0.00")


@pytest.mark.parametrize("size", [5, 300])
def test_budget_summary_query_count_does_not_grow_with_lines(size, django_assert_num_queries):
    proposal, _staff = ready_proposal(amount=D("10.00"))
    activity = proposal.activities.get()
    ExchangeRate.objects.create(proposal=proposal, currency="USD", rate=D("0.92"))
    BudgetLine.objects.bulk_create(  # test data only: the services are covered elsewhere
        BudgetLine(
            proposal=proposal,
            activity=activity if i % 2 else None,
            category=BudgetLine.Category.MEALS,
            description=f"Meal {i}",
            unit="person",
            quantity=D("1"),
            unit_cost=D("1.00"),
            currency="USD" if i % 3 else "EUR",
        )
        for i in range(size - 1)
    )
    proposal = Proposal.objects.select_related("fund").get(pk=proposal.pk)

    with django_assert_num_queries(2):  # the lines and the rates, whatever the size
        summary = budget_summary(proposal)

    assert summary.line_count == size
    expected = D("10.00") + D(size - 1)
    assert sum(summary.by_currency.values()) == expected
    assert sum(v for group in summary.by_category.values() for v in group.values()) == expected
    assert sum(v for group in summary.by_activity.values() for v in group.values()) == expected
