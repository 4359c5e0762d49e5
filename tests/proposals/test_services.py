"""The proposal domain API, through its service functions: the rules 1 to 5 of DESIGN.md, stale
edits and the audit trail. Admin and concurrency tests live elsewhere."""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ccop.errors import NotAllowed, RuleViolation, StaleEdit
from ccop.models import Membership, Organisation, User
from grants.models import Fund, Grant
from proposals import services
from proposals.models import (
    Applicant,
    BudgetLine,
    Decision,
    Endorsement,
    ExchangeRate,
    PlannedActivity,
    Proposal,
    Review,
)
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    FundFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
    grantee_with_staff,
    ready_proposal,
    under_review,
)

pytestmark = pytest.mark.django_db

S = Proposal.Status


# --------------------------------------------------------------------------- helpers


def error_codes(excinfo) -> list[str]:
    return [error.code for error in excinfo.value.error_list]


def error_text(excinfo) -> str:
    return " ".join(excinfo.value.messages)


def endorse_all(proposal: Proposal, people: list[User]) -> None:
    for person in people:
        services.proposal_endorse(proposal=proposal, acting_user=person)


def add_line(
    proposal: Proposal,
    person: User,
    *,
    quantity: str,
    unit_cost: str,
    currency: str = "EUR",
    category: str = BudgetLine.Category.MEALS,
    activity: PlannedActivity | None = None,
) -> BudgetLine:
    return services.budget_line_add(
        proposal=proposal,
        acting_user=person,
        activity=activity,
        category=category,
        description=f"{category} in {currency}",
        unit="person",
        quantity=Decimal(quantity),
        unit_cost=Decimal(unit_cost),
        currency=currency,
    )


def record_rate(proposal: Proposal, person: User, currency: str, rate: str) -> ExchangeRate:
    """ExchangeRate has no service of its own: written with the ORM inside the edit's transaction."""
    with transaction.atomic():
        exchange_rate = ExchangeRate.objects.create(proposal=proposal, currency=currency, rate=Decimal(rate))
        services.proposal_record_edit(proposal=proposal, acting_user=person)
    return exchange_rate


def start_review(proposal: Proposal, staff: list[User]) -> User:
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    services.proposal_start_review(proposal=proposal, acting_user=member)
    return member


def laos():
    return CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")


def fresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


def proposal_in(status: str) -> tuple[Proposal, list[User], User]:
    """A proposal in `status`, its applicant staff and a committee member who may decide it."""
    if status in {S.UNDER_REVIEW, S.REVISION_REQUESTED, S.APPROVED, S.REJECTED}:
        proposal, staff, member = under_review()
        if status == S.REVISION_REQUESTED:
            services.proposal_request_revision(proposal=proposal, acting_user=member, comment="Add a date.")
        elif status == S.APPROVED:
            services.proposal_approve(proposal=proposal, acting_user=member, reasons="Clear plan.")
        elif status == S.REJECTED:
            services.proposal_reject(proposal=proposal, acting_user=member, reason="Out of scope.")
        return fresh(proposal), staff, member
    proposal, staff = ready_proposal()
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    if status == S.SUBMITTED:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])
    elif status == S.WITHDRAWN:
        services.proposal_withdraw(proposal=proposal, acting_user=staff[0], reason="Merged.")
    return fresh(proposal), staff, member


# --------------------------------------------------------------------------- rule 1: two grantees


def test_ready_proposal_with_two_endorsing_grantees_is_submitted():
    proposal, staff = ready_proposal()

    services.proposal_submit(proposal=proposal, acting_user=staff[0])

    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED
    assert proposal.submitted_at is not None


def test_one_organisation_proposal_is_refused_by_the_two_grantee_rule():
    proposal, staff = ready_proposal(applicants=1)

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])

    codes = error_codes(excinfo)
    assert "two_grantee_rule" in codes
    assert "too_few_applicants" in codes
    assert fresh(proposal).status == S.DRAFT
    assert not proposal.transitions.exists()


def test_two_applicants_with_one_endorsement_are_refused():
    proposal, staff = ready_proposal(endorse=False)
    services.proposal_endorse(proposal=proposal, acting_user=staff[0])

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])

    assert error_codes(excinfo) == ["endorsement_missing", "two_grantee_rule"]
    assert f"{staff[1].organisation.acronym} has not endorsed" in error_text(excinfo)
    assert "(now 1)" in error_text(excinfo)
    assert fresh(proposal).status == S.DRAFT


def test_endorsement_of_an_applicant_that_is_not_a_grantee_does_not_count():
    proposal, staff = ready_proposal(applicants=1)
    partner = OrganisationFactory(
        kind=Organisation.Kind.PARTNER, country_programme=proposal.cop.country_programme
    )
    MembershipFactory(cop=proposal.cop, organisation=partner)
    partner_staff = StaffFactory(organisation=partner)
    services.applicant_add(proposal=proposal, organisation=partner, acting_user=staff[0])
    endorse_all(proposal, [staff[0], partner_staff])

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])

    codes = error_codes(excinfo)
    assert "two_grantee_rule" in codes
    assert "too_few_applicants" not in codes
    assert f"{partner.acronym} is not a grantee partner" in error_text(excinfo)
    assert fresh(proposal).status == S.DRAFT


def test_endorsement_of_an_applicant_whose_membership_ended_does_not_count():
    proposal, staff = ready_proposal()
    Membership.objects.filter(cop=proposal.cop, organisation=staff[1].organisation).update(
        left_on=timezone.localdate() - datetime.timedelta(days=1)
    )

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])

    assert "two_grantee_rule" in error_codes(excinfo)
    assert f"{staff[1].organisation.acronym} is no longer an active member" in error_text(excinfo)
    assert fresh(proposal).status == S.DRAFT


def _change_narrative(proposal, person):
    services.proposal_update(
        proposal=proposal, acting_user=person, data={"objectives": "Sharper objectives."}
    )


def _add_budget_line(proposal, person):
    add_line(proposal, person, quantity="10", unit_cost="3.50")


def _add_activity(proposal, person):
    services.activity_add(proposal=proposal, acting_user=person, title="Reflection", agenda="Talk", order=2)


def _add_applicant(proposal, person):
    newcomer = grantee_with_staff(proposal.cop)
    services.applicant_add(proposal=proposal, organisation=newcomer.organisation, acting_user=person)


@pytest.mark.parametrize(
    "change",
    [_change_narrative, _add_budget_line, _add_activity, _add_applicant],
    ids=["proposal_update", "budget_line_add", "activity_add", "applicant_add"],
)
def test_a_later_change_voids_endorsements_until_they_are_given_again(change):
    proposal, staff = ready_proposal()
    change(proposal, staff[1])

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])

    assert "two_grantee_rule" in error_codes(excinfo)
    for person in staff:
        assert f"{person.organisation.acronym} endorsed an earlier version" in error_text(excinfo)
    assert fresh(proposal).status == S.DRAFT

    endorse_all(proposal, staff)
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    assert fresh(proposal).status == S.SUBMITTED


def test_re_endorsement_by_only_one_organisation_after_a_change_is_not_enough():
    proposal, staff = ready_proposal()
    _change_narrative(proposal, staff[0])
    services.proposal_endorse(proposal=proposal, acting_user=staff[0])

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])

    assert "two_grantee_rule" in error_codes(excinfo)
    assert f"{staff[1].organisation.acronym} endorsed an earlier version" in error_text(excinfo)


@pytest.mark.parametrize("who", ["outsider", "non_applicant_member", "committee_member", "facilitator"])
def test_only_staff_of_an_applicant_organisation_can_endorse(who):
    proposal, staff = ready_proposal(endorse=False)
    programme = proposal.cop.country_programme
    person = {
        "outsider": lambda: StaffFactory(organisation__country_programme=programme),
        "non_applicant_member": lambda: grantee_with_staff(proposal.cop),
        "committee_member": lambda: CommitteeMemberFactory(country_programme=programme),
        "facilitator": lambda: FacilitatorFactory(country_programme=programme),
    }[who]()

    with pytest.raises(NotAllowed):
        services.proposal_endorse(proposal=proposal, acting_user=person)

    assert not Endorsement.objects.filter(proposal=proposal).exists()


def test_endorsement_records_the_organisation_and_the_person():
    proposal, staff = ready_proposal(endorse=False)

    endorsement = services.proposal_endorse(proposal=proposal, acting_user=staff[1], comment="Agreed.")

    assert endorsement.organisation == staff[1].organisation
    assert endorsement.endorsed_by == staff[1]
    assert endorsement.content_digest == services.proposal_content_digest(proposal)


def test_a_submitted_proposal_cannot_be_endorsed():
    proposal, staff, _member = proposal_in(S.SUBMITTED)

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_endorse(proposal=proposal, acting_user=staff[0])

    assert excinfo.value.code == "wrong_state"


# --------------------------------------------------------------------------- creating, applicants


def test_member_staff_create_a_draft_with_their_organisation_as_lead_applicant():
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme)
    lead = grantee_with_staff(cop)
    partner = grantee_with_staff(cop)

    proposal = services.proposal_create(
        cop=cop, fund=fund, title="Theatre", acting_user=lead, applicants=[partner.organisation]
    )

    assert proposal.status == S.DRAFT
    assert proposal.created_by == lead
    applicants = {a.organisation: a.is_lead for a in proposal.applicants.all()}
    assert applicants == {lead.organisation: True, partner.organisation: False}
    assert proposal.history.get().history_user == lead


@pytest.mark.parametrize("problem", ["fund_closed", "wrong_programme", "outsider", "former_member"])
def test_a_proposal_cannot_be_started_against_the_rules(problem):
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme)
    person = grantee_with_staff(cop)
    if problem == "fund_closed":
        fund = FundFactory(
            country_programme=programme,
            opens_on=timezone.localdate() + datetime.timedelta(days=1),
            closes_on=timezone.localdate() + datetime.timedelta(days=30),
        )
    elif problem == "wrong_programme":
        fund = FundFactory(country_programme=laos())
    elif problem == "outsider":
        person = StaffFactory(organisation__country_programme=programme)
    else:
        Membership.objects.filter(organisation=person.organisation).update(
            left_on=timezone.localdate() - datetime.timedelta(days=1)
        )
    expected = {"outsider": "not_allowed", "former_member": "not_allowed"}.get(problem, problem)

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_create(cop=cop, fund=fund, title="Theatre", acting_user=person)

    assert excinfo.value.code == expected
    assert not Proposal.objects.exists()


def test_only_an_active_member_of_the_cop_can_be_added_as_applicant():
    proposal, staff = ready_proposal()
    stranger = OrganisationFactory(country_programme=proposal.cop.country_programme)

    with pytest.raises(RuleViolation) as excinfo:
        services.applicant_add(proposal=proposal, organisation=stranger, acting_user=staff[0])

    assert excinfo.value.code == "not_a_member"
    assert not proposal.applicants.filter(organisation=stranger).exists()


def test_an_organisation_is_an_applicant_only_once():
    proposal, staff = ready_proposal()

    with pytest.raises(RuleViolation) as excinfo:
        services.applicant_add(proposal=proposal, organisation=staff[1].organisation, acting_user=staff[0])

    assert excinfo.value.code == "duplicate"
    assert proposal.applicants.count() == 2


def test_removing_an_applicant_leaves_too_few_to_submit():
    proposal, staff = ready_proposal()

    services.applicant_remove(proposal=proposal, organisation=staff[1].organisation, acting_user=staff[0])

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])
    assert {"too_few_applicants", "two_grantee_rule"} <= set(error_codes(excinfo))
    assert Applicant.history.filter(history_type="-").get().history_user == staff[0]


# --------------------------------------------------------------------------- submission problems


def test_an_empty_draft_lists_every_missing_piece_with_its_section():
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme)
    person = grantee_with_staff(cop)
    proposal = services.proposal_create(cop=cop, fund=fund, title="Just a title", acting_user=person)

    problems = services.proposal_submission_problems(fresh(proposal))

    sections = {problem.code: problem.section for problem in problems}
    assert sections == {
        "missing_problem_analysis": "problem_analysis",
        "missing_objectives": "objectives",
        "missing_provinces": "provinces",
        "missing_starts_on": "starts_on",
        "missing_ends_on": "ends_on",
        "missing_budget_option": "budget_option",
        "missing_target_groups": "target_groups",
        "no_activities": "activities",
        "no_budget": "budget",
        "too_few_applicants": "applicants",
        "endorsement_missing": "applicants",
        "two_grantee_rule": "applicants",
    }
    assert all(problem.message for problem in problems)

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=person)
    assert error_codes(excinfo) == [problem.code for problem in problems]
    assert fresh(proposal).status == S.DRAFT


def test_a_primary_activity_without_agenda_is_a_problem():
    proposal, staff = ready_proposal()
    services.activity_add(proposal=proposal, acting_user=staff[0], title="Screening", is_primary=True)

    problems = services.proposal_submission_problems(fresh(proposal))

    agenda = [p for p in problems if p.code == "missing_agenda"]
    assert len(agenda) == 1
    assert agenda[0].section == "activities"
    assert "Screening" in agenda[0].message


def test_a_closed_fund_refuses_submission():
    proposal, staff = ready_proposal()
    today = timezone.localdate()
    Fund.objects.filter(pk=proposal.fund_id).update(
        opens_on=today - datetime.timedelta(days=60), closes_on=today - datetime.timedelta(days=1)
    )

    problems = services.proposal_submission_problems(fresh(proposal))
    assert [(p.code, p.section) for p in problems] == [("fund_closed", "fund")]

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])
    assert error_codes(excinfo) == ["fund_closed"]
    assert fresh(proposal).status == S.DRAFT


def test_a_budget_over_the_cap_per_proposal_refuses_submission():
    fund = FundFactory(per_proposal_cap=Decimal("500.00"))
    proposal, staff = ready_proposal(fund=fund, amount=Decimal("1000.00"))

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])

    assert error_codes(excinfo) == ["over_cap"]
    assert "EUR 500.00" in error_text(excinfo)
    assert fresh(proposal).status == S.DRAFT


def test_a_budget_over_the_remaining_balance_refuses_submission():
    fund = FundFactory(ceiling=Decimal("1500.00"))
    first, _staff, member = under_review(fund=fund, amount=Decimal("1000.00"))
    services.proposal_approve(proposal=first, acting_user=member, reasons="Good.")
    second, staff = ready_proposal(fund=fund, amount=Decimal("1000.00"))

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=second, acting_user=staff[0])

    assert error_codes(excinfo) == ["over_ceiling"]
    assert "EUR 500.00" in error_text(excinfo)
    assert fresh(second).status == S.DRAFT


def test_a_line_in_another_currency_needs_a_recorded_exchange_rate():
    proposal, staff = ready_proposal()
    add_line(proposal, staff[0], quantity="2", unit_cost="50.00", currency="USD")

    problems = services.proposal_submission_problems(fresh(proposal))
    missing = [p for p in problems if p.code == "missing_rate"]
    assert len(missing) == 1
    assert missing[0].section == "budget"
    assert "USD" in missing[0].message

    record_rate(proposal, staff[0], "USD", "0.92")
    codes = {p.code for p in services.proposal_submission_problems(fresh(proposal))}
    assert "missing_rate" not in codes

    endorse_all(proposal, staff)
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    assert fresh(proposal).status == S.SUBMITTED


def test_a_budget_line_in_a_currency_the_fund_does_not_accept_is_refused():
    proposal, staff = ready_proposal()

    with pytest.raises(RuleViolation) as excinfo:
        add_line(proposal, staff[0], quantity="1", unit_cost="100", currency="THB")

    assert excinfo.value.error_dict["currency"][0].code == "currency_not_accepted"
    assert proposal.budget_lines.count() == 1


# --------------------------------------------------------------------------- rule 3: workflow


def _submit(proposal, staff, member):
    return services.proposal_submit(proposal=proposal, acting_user=staff[0])


def _start_review(proposal, staff, member):
    return services.proposal_start_review(proposal=proposal, acting_user=member)


def _request_revision(proposal, staff, member):
    return services.proposal_request_revision(
        proposal=proposal, acting_user=member, comment="Please add the second workshop."
    )


def _approve(proposal, staff, member):
    return services.proposal_approve(proposal=proposal, acting_user=member, reasons="A strong joint plan.")


def _reject(proposal, staff, member):
    return services.proposal_reject(proposal=proposal, acting_user=member, reason="Outside the fund's aim.")


def _withdraw(proposal, staff, member):
    return services.proposal_withdraw(proposal=proposal, acting_user=staff[0], reason="Merged with another.")


ACTIONS = {
    "submit": (_submit, "staff", ""),
    "start_review": (_start_review, "member", ""),
    "request_revision": (_request_revision, "member", "Please add the second workshop."),
    "approve": (_approve, "member", "A strong joint plan."),
    "reject": (_reject, "member", "Outside the fund's aim."),
    "withdraw": (_withdraw, "staff", "Merged with another."),
}

# The workflow of DESIGN rule 3, written out here rather than read from services.TRANSITIONS.
ALLOWED = {
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.DRAFT, "withdraw"): S.WITHDRAWN,
    (S.SUBMITTED, "start_review"): S.UNDER_REVIEW,
    (S.SUBMITTED, "withdraw"): S.WITHDRAWN,
    (S.UNDER_REVIEW, "request_revision"): S.REVISION_REQUESTED,
    (S.UNDER_REVIEW, "approve"): S.APPROVED,
    (S.UNDER_REVIEW, "reject"): S.REJECTED,
    (S.UNDER_REVIEW, "withdraw"): S.WITHDRAWN,
    (S.REVISION_REQUESTED, "submit"): S.SUBMITTED,
    (S.REVISION_REQUESTED, "withdraw"): S.WITHDRAWN,
}
FORBIDDEN = [(status, action) for status in S.values for action in ACTIONS if (status, action) not in ALLOWED]


@pytest.mark.parametrize(("status", "action"), list(ALLOWED), ids=lambda v: str(v))
def test_every_allowed_transition_happens_and_is_recorded(status, action):
    proposal, staff, member = proposal_in(status)
    do, actor_kind, reason = ACTIONS[action]
    actor = staff[0] if actor_kind == "staff" else member
    before = proposal.transitions.count()

    do(proposal, staff, member)

    proposal.refresh_from_db()
    assert proposal.status == ALLOWED[(status, action)]
    assert proposal.transitions.count() == before + 1
    step = proposal.transitions.order_by("pk").last()
    assert (step.from_status, step.to_status) == (status, ALLOWED[(status, action)])
    assert step.actor == actor
    assert step.reason == reason
    assert step.at is not None


@pytest.mark.parametrize(("status", "action"), FORBIDDEN, ids=lambda v: str(v))
def test_every_other_transition_is_refused_and_changes_nothing(status, action):
    proposal, staff, member = proposal_in(status)
    do = ACTIONS[action][0]
    transitions = proposal.transitions.count()
    decided = Decision.objects.filter(proposal=proposal).exists()

    with pytest.raises(RuleViolation) as excinfo:
        do(proposal, staff, member)

    assert excinfo.value.code == "invalid_transition"
    assert fresh(proposal).status == status
    assert proposal.transitions.count() == transitions
    assert Decision.objects.filter(proposal=proposal).exists() == decided
    assert Grant.objects.filter(proposal=proposal).exists() == (status == S.APPROVED)


def test_the_forbidden_transition_message_names_both_states():
    proposal, staff, member = proposal_in(S.DRAFT)

    with pytest.raises(RuleViolation) as excinfo:
        _approve(proposal, staff, member)

    assert "draft" in error_text(excinfo)
    assert "approved" in error_text(excinfo)


@pytest.mark.parametrize("who", ["applicant_staff", "member_staff"])
def test_grantee_staff_cannot_start_review(who):
    proposal, staff, _member = proposal_in(S.SUBMITTED)
    person = staff[0] if who == "applicant_staff" else grantee_with_staff(proposal.cop)

    with pytest.raises(NotAllowed):
        services.proposal_start_review(proposal=proposal, acting_user=person)

    assert fresh(proposal).status == S.SUBMITTED


@pytest.mark.parametrize("who", ["applicant_staff", "member_staff", "facilitator"])
def test_only_committee_members_can_approve(who):
    proposal, staff, _member = proposal_in(S.UNDER_REVIEW)
    person = {
        "applicant_staff": lambda: staff[0],
        "member_staff": lambda: grantee_with_staff(proposal.cop),
        "facilitator": lambda: FacilitatorFactory(country_programme=proposal.cop.country_programme),
    }[who]()

    with pytest.raises(NotAllowed):
        services.proposal_approve(proposal=proposal, acting_user=person, reasons="Looks fine.")

    assert fresh(proposal).status == S.UNDER_REVIEW
    assert not Grant.objects.filter(proposal=proposal).exists()
    assert not Decision.objects.filter(proposal=proposal).exists()


def test_committee_member_cannot_submit():
    proposal, _staff, member = proposal_in(S.DRAFT)

    with pytest.raises(NotAllowed):
        services.proposal_submit(proposal=proposal, acting_user=member)

    assert fresh(proposal).status == S.DRAFT


def test_committee_member_cannot_withdraw():
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    with pytest.raises(NotAllowed):
        services.proposal_withdraw(proposal=proposal, acting_user=member, reason="No.")

    assert fresh(proposal).status == S.UNDER_REVIEW


def test_facilitator_of_the_programme_can_withdraw():
    proposal, _staff, _member = proposal_in(S.SUBMITTED)
    facilitator = FacilitatorFactory(country_programme=proposal.cop.country_programme)

    services.proposal_withdraw(proposal=proposal, acting_user=facilitator, reason="The CoP disbanded.")

    assert fresh(proposal).status == S.WITHDRAWN
    assert proposal.transitions.last().actor == facilitator


@pytest.mark.parametrize("comment", ["", "   "])
def test_request_revision_requires_a_comment(comment):
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_request_revision(proposal=proposal, acting_user=member, comment=comment)

    assert excinfo.value.code == "comment_required"
    assert fresh(proposal).status == S.UNDER_REVIEW


def test_request_revision_can_name_a_lower_amount():
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    services.proposal_request_revision(
        proposal=proposal, acting_user=member, comment="Reduce the venue.", amount=Decimal("800")
    )

    step = proposal.transitions.last()
    assert step.to_status == S.REVISION_REQUESTED
    assert "Reduce the venue." in step.reason
    assert "EUR 800.00" in step.reason


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_reject_requires_a_reason(reason):
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_reject(proposal=proposal, acting_user=member, reason=reason)

    assert excinfo.value.code == "reason_required"
    assert fresh(proposal).status == S.UNDER_REVIEW
    assert not Decision.objects.filter(proposal=proposal).exists()


def test_approve_requires_reasons():
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_approve(proposal=proposal, acting_user=member, reasons=" ")

    assert excinfo.value.code == "reasons_required"
    assert fresh(proposal).status == S.UNDER_REVIEW


def test_reject_records_a_decision_with_the_reason():
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    decision = services.proposal_reject(proposal=proposal, acting_user=member, reason="Out of scope.")

    assert decision.outcome == Decision.Outcome.REJECTED
    assert decision.reasons == "Out of scope."
    assert decision.decided_by == member
    assert decision.amount is None
    assert not Grant.objects.filter(proposal=proposal).exists()


def test_resubmission_after_revision_goes_round_the_workflow_again():
    proposal, staff, member = proposal_in(S.REVISION_REQUESTED)
    services.proposal_update(
        proposal=proposal, acting_user=staff[0], data={"provinces": "Battambang, Pursat"}
    )

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_submit(proposal=proposal, acting_user=staff[0])
    assert "two_grantee_rule" in error_codes(excinfo)

    endorse_all(proposal, staff)
    services.proposal_submit(proposal=proposal, acting_user=staff[1])
    services.proposal_start_review(proposal=proposal, acting_user=member)
    services.proposal_approve(proposal=proposal, acting_user=member, reasons="Revised as asked.")

    assert fresh(proposal).status == S.APPROVED
    assert [(t.from_status, t.to_status) for t in proposal.transitions.order_by("pk")] == [
        (S.DRAFT, S.SUBMITTED),
        (S.SUBMITTED, S.UNDER_REVIEW),
        (S.UNDER_REVIEW, S.REVISION_REQUESTED),
        (S.REVISION_REQUESTED, S.SUBMITTED),
        (S.SUBMITTED, S.UNDER_REVIEW),
        (S.UNDER_REVIEW, S.APPROVED),
    ]
    assert proposal.decision.approved_version["provinces"] == "Battambang, Pursat"


# --------------------------------------------------------------------------- rule 2: ceiling


def test_approval_creates_a_grant_and_a_decision_for_the_budget_total():
    proposal, _staff, member = under_review(amount=Decimal("1234.56"))

    decision = services.proposal_approve(proposal=proposal, acting_user=member, reasons="Strong plan.")

    grant = Grant.objects.get(proposal=proposal)
    assert grant.amount == Decimal("1234.56")
    assert grant.currency == "EUR"
    assert grant.fund_id == proposal.fund_id
    assert grant.approved_by == member
    decision.refresh_from_db()
    assert decision.outcome == Decision.Outcome.APPROVED
    assert decision.amount == Decimal("1234.56")
    assert decision.currency == "EUR"
    assert decision.decided_by == member
    assert decision.reasons == "Strong plan."
    assert fresh(proposal).status == S.APPROVED
    fund = Fund.objects.get(pk=proposal.fund_id)
    assert fund.approved_total() == Decimal("1234.56")
    assert fund.remaining() == Decimal("48765.44")


def test_approval_past_the_ceiling_is_refused_with_the_remaining_balance():
    fund = FundFactory(ceiling=Decimal("1500.00"))
    first, _staff, member = under_review(fund=fund, amount=Decimal("1000.00"))
    second, _staff2, _member2 = under_review(fund=fund, amount=Decimal("1000.00"))
    services.proposal_approve(proposal=first, acting_user=member, reasons="First come.")
    transitions = second.transitions.count()

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_approve(proposal=second, acting_user=member, reasons="Also good.")

    assert excinfo.value.code == "over_ceiling"
    assert "EUR 500.00" in error_text(excinfo)
    assert fresh(second).status == S.UNDER_REVIEW
    assert not Grant.objects.filter(proposal=second).exists()
    assert not Decision.objects.filter(proposal=second).exists()
    assert second.transitions.count() == transitions
    assert Fund.objects.get(pk=fund.pk).approved_total() == Decimal("1000.00")


def test_approval_up_to_exactly_the_ceiling_is_allowed():
    fund = FundFactory(ceiling=Decimal("2000.00"))
    first, _staff, member = under_review(fund=fund, amount=Decimal("1000.00"))
    second, _staff2, _member2 = under_review(fund=fund, amount=Decimal("1000.00"))

    services.proposal_approve(proposal=first, acting_user=member, reasons="Good.")
    services.proposal_approve(proposal=second, acting_user=member, reasons="Good too.")

    assert Fund.objects.get(pk=fund.pk).remaining() == Decimal("0.00")


def test_approval_over_the_cap_per_proposal_is_refused():
    fund = FundFactory(per_proposal_cap=Decimal("2000.00"))
    proposal, _staff, member = under_review(fund=fund, amount=Decimal("1500.00"))
    Fund.objects.filter(pk=fund.pk).update(per_proposal_cap=Decimal("1000.00"))

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")

    assert excinfo.value.code == "over_cap"
    assert "EUR 1,000.00" in error_text(excinfo)
    assert fresh(proposal).status == S.UNDER_REVIEW
    assert not Grant.objects.filter(proposal=proposal).exists()


def test_usd_lines_are_converted_to_the_fund_currency_at_the_recorded_rate():
    proposal, staff = ready_proposal(amount=Decimal("100.00"))
    add_line(proposal, staff[0], quantity="3", unit_cost="33.33", currency="USD")  # 99.99
    add_line(proposal, staff[0], quantity="0.5", unit_cost="12.25", currency="USD")  # 6.125 -> 6.13
    record_rate(proposal, staff[0], "USD", "0.92")
    endorse_all(proposal, staff)
    member = start_review(proposal, staff)

    # USD 106.12 x 0.92 = 97.6304 -> EUR 97.63; plus the EUR 100.00 line.
    decision = services.proposal_approve(
        proposal=proposal, acting_user=member, reasons="Good.", amount=Decimal("197.63")
    )

    assert decision.amount == Decimal("197.63")
    assert Grant.objects.get(proposal=proposal).amount == Decimal("197.63")
    assert decision.approved_version["total_in_fund_currency"] == "197.63"
    assert decision.approved_version["exchange_rates"] == {"USD": "0.92000000"}


def test_conversion_rounds_half_up_to_the_cent():
    proposal, staff = ready_proposal(amount=Decimal("100.00"))
    add_line(proposal, staff[0], quantity="1", unit_cost="1234.57", currency="USD")
    record_rate(proposal, staff[0], "USD", "0.5")
    endorse_all(proposal, staff)
    member = start_review(proposal, staff)

    # USD 1234.57 x 0.5 = 617.285: half up gives 617.29 (banker's rounding would give 617.28).
    decision = services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")

    assert decision.amount == Decimal("717.29")


def test_approval_with_an_amount_other_than_the_budget_total_is_refused():
    proposal, _staff, member = under_review(amount=Decimal("1000.00"))

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_approve(
            proposal=proposal, acting_user=member, reasons="Good.", amount=Decimal("900.00")
        )

    assert excinfo.value.code == "amount_mismatch"
    assert "EUR 1,000.00" in error_text(excinfo)
    assert fresh(proposal).status == S.UNDER_REVIEW
    assert not Grant.objects.filter(proposal=proposal).exists()
    assert not Decision.objects.filter(proposal=proposal).exists()


# --------------------------------------------------------------------------- rule 4: freeze


def _edit_by_update(proposal, person):
    services.proposal_update(proposal=proposal, acting_user=person, data={"title": "Changed later"})


def _edit_by_applicant(proposal, person):
    newcomer = grantee_with_staff(proposal.cop)
    services.applicant_add(proposal=proposal, organisation=newcomer.organisation, acting_user=person)


FREEZING_EDITS = {
    "proposal_update": _edit_by_update,
    "budget_line_add": _add_budget_line,
    "applicant_add": _edit_by_applicant,
    "activity_add": _add_activity,
}


@pytest.mark.parametrize("status", [S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.REJECTED, S.WITHDRAWN])
@pytest.mark.parametrize("edit", list(FREEZING_EDITS))
def test_a_proposal_past_draft_is_frozen(status, edit):
    proposal, staff, _member = proposal_in(status)
    before = services.proposal_content_digest(proposal)
    counts = (proposal.budget_lines.count(), proposal.applicants.count(), proposal.activities.count())

    with pytest.raises(RuleViolation) as excinfo:
        FREEZING_EDITS[edit](proposal, staff[0])

    assert excinfo.value.code == "frozen"
    after = fresh(proposal)
    assert after.revision == proposal.revision
    assert after.title != "Changed later"
    assert (after.budget_lines.count(), after.applicants.count(), after.activities.count()) == counts
    assert services.proposal_content_digest(after) == before


@pytest.mark.parametrize("who", ["facilitator", "superuser"])
def test_nobody_edits_an_approved_proposal(who):
    proposal, _staff, _member = proposal_in(S.APPROVED)
    person = (
        FacilitatorFactory(country_programme=proposal.cop.country_programme)
        if who == "facilitator"
        else StaffFactory(is_superuser=True, is_staff=True)
    )

    with pytest.raises(RuleViolation) as excinfo:
        services.proposal_update(proposal=proposal, acting_user=person, data={"title": "Edited"})

    assert excinfo.value.code == "frozen"
    assert fresh(proposal).title != "Edited"


def test_the_approved_version_holds_the_budget_and_endorsements_with_its_digest():
    proposal, staff, member = under_review()

    decision = services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")

    decision.refresh_from_db()
    version = decision.approved_version
    assert version["title"] == proposal.title
    assert version["budget_lines"] == [
        {
            "activity": 0,
            "category": "venue",
            "description": "Venue hire",
            "unit": "day",
            "quantity": "1.00",
            "unit_cost": "1000.00",
            "currency": "EUR",
            "total": "1000.00",
        }
    ]
    assert sorted(e["organisation"] for e in version["endorsements"]) == sorted(
        person.organisation.acronym for person in staff
    )
    assert sorted(version["applicants"]) == sorted(person.organisation.acronym for person in staff)
    assert version["total_in_fund_currency"] == "1000.00"
    assert decision.approved_version_sha256 == services.digest(version)
    assert len(decision.approved_version_sha256) == 64


def test_the_approved_version_does_not_move_after_later_attempts():
    proposal, staff, member = under_review()
    decision = services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")
    decision.refresh_from_db()
    frozen = copy.deepcopy(decision.approved_version)
    sha = decision.approved_version_sha256

    for edit in FREEZING_EDITS.values():
        with pytest.raises(RuleViolation):
            edit(proposal, staff[0])
    with pytest.raises(RuleViolation):
        services.proposal_approve(proposal=proposal, acting_user=member, reasons="Again.")

    decision.refresh_from_db()
    assert decision.approved_version == frozen
    assert decision.approved_version_sha256 == sha == services.digest(decision.approved_version)
    assert Decision.objects.filter(proposal=proposal).count() == 1
    assert Grant.objects.filter(proposal=proposal).count() == 1


def test_applicants_edit_again_once_a_revision_is_requested():
    proposal, staff, _member = proposal_in(S.REVISION_REQUESTED)

    services.proposal_update(proposal=proposal, acting_user=staff[0], data={"title": "Revised title"})

    assert fresh(proposal).title == "Revised title"


# --------------------------------------------------------------------------- rule 5: conflicts


def _conflicted_member(proposal: Proposal, kind: str) -> User:
    programme = proposal.cop.country_programme
    applicant = proposal.applicants.first().organisation
    if kind == "organisation":
        return CommitteeMemberFactory(country_programme=programme, organisation=applicant)
    member = CommitteeMemberFactory(country_programme=programme)
    if kind == "affiliation":
        member.affiliations.add(applicant)
    else:
        services.conflict_declare(proposal=proposal, member=member, reason="My sister leads this NGO.")
    return member


COMMITTEE_ACTIONS = {
    "review_record": (
        S.UNDER_REVIEW,
        lambda p, m: services.review_record(proposal=p, reviewer=m, recommendation="approve", score=8),
    ),
    "start_review": (S.SUBMITTED, lambda p, m: services.proposal_start_review(proposal=p, acting_user=m)),
    "approve": (
        S.UNDER_REVIEW,
        lambda p, m: services.proposal_approve(proposal=p, acting_user=m, reasons="Ok"),
    ),
    "reject": (S.UNDER_REVIEW, lambda p, m: services.proposal_reject(proposal=p, acting_user=m, reason="No")),
    "request_revision": (
        S.UNDER_REVIEW,
        lambda p, m: services.proposal_request_revision(proposal=p, acting_user=m, comment="Fix"),
    ),
}


@pytest.mark.parametrize("kind", ["organisation", "affiliation", "declaration"])
@pytest.mark.parametrize("action", list(COMMITTEE_ACTIONS))
def test_a_conflicted_committee_member_can_neither_review_nor_decide(kind, action):
    status, do = COMMITTEE_ACTIONS[action]
    proposal, _staff, _member = proposal_in(status)
    member = _conflicted_member(proposal, kind)
    transitions = proposal.transitions.count()

    with pytest.raises(NotAllowed) as excinfo:
        do(proposal, member)

    assert excinfo.value.code == "conflict_of_interest"
    assert fresh(proposal).status == status
    assert proposal.transitions.count() == transitions
    assert not Review.objects.filter(proposal=proposal).exists()
    assert not Decision.objects.filter(proposal=proposal).exists()


@pytest.mark.parametrize("action", list(COMMITTEE_ACTIONS))
def test_a_committee_member_of_the_other_programme_is_refused(action):
    status, do = COMMITTEE_ACTIONS[action]
    proposal, _staff, _member = proposal_in(status)
    outsider = CommitteeMemberFactory(country_programme=laos())

    with pytest.raises(NotAllowed) as excinfo:
        do(proposal, outsider)

    assert excinfo.value.code == "not_allowed"
    assert fresh(proposal).status == status
    assert not Review.objects.filter(proposal=proposal).exists()


def test_an_unconflicted_committee_member_records_a_review():
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    review = services.review_record(
        proposal=proposal, reviewer=member, recommendation="approve", comment="Clear.", score=8
    )

    assert Review.objects.get(proposal=proposal) == review
    assert (review.reviewer, review.recommendation, review.score) == (member, "approve", 8)
    assert Review.history.get(id=review.pk).history_user == member


def test_a_second_review_by_the_same_member_replaces_the_first():
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)
    services.review_record(proposal=proposal, reviewer=member, recommendation="approve", score=8)

    services.review_record(proposal=proposal, reviewer=member, recommendation="revise", score=5)

    review = Review.objects.get(proposal=proposal)
    assert (review.recommendation, review.score) == ("revise", 5)


def test_a_committee_member_without_a_programme_sits_on_every_committee():
    proposal, _staff, _member = proposal_in(S.UNDER_REVIEW)
    member = CommitteeMemberFactory(country_programme=None)

    services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")

    assert fresh(proposal).status == S.APPROVED


def test_a_review_with_a_score_out_of_range_is_refused_and_not_stored():
    proposal, _staff, member = proposal_in(S.UNDER_REVIEW)

    with pytest.raises(ValidationError) as excinfo:
        services.review_record(proposal=proposal, reviewer=member, recommendation="approve", score=11)

    assert "review_score_range" in error_text(excinfo)

    assert not Review.objects.filter(proposal=proposal).exists()


def test_a_draft_cannot_be_reviewed():
    proposal, _staff, member = proposal_in(S.DRAFT)

    with pytest.raises(RuleViolation) as excinfo:
        services.review_record(proposal=proposal, reviewer=member, recommendation="approve")

    assert excinfo.value.code == "wrong_state"
    assert not Review.objects.filter(proposal=proposal).exists()


def test_declaring_a_conflict_needs_a_reason():
    proposal, _staff, member = proposal_in(S.SUBMITTED)

    with pytest.raises(RuleViolation) as excinfo:
        services.conflict_declare(proposal=proposal, member=member, reason=" ")

    assert excinfo.value.code == "reason_required"
    assert not proposal.conflicts.exists()


# --------------------------------------------------------------------------- stale edits


def test_a_stale_update_is_refused_and_leaves_the_content_unchanged():
    proposal, staff = ready_proposal()
    loaded = proposal.revision
    services.proposal_update(
        proposal=proposal, acting_user=staff[0], data={"title": "First save"}, expected_revision=loaded
    )

    with pytest.raises(StaleEdit) as excinfo:
        services.proposal_update(
            proposal=proposal, acting_user=staff[1], data={"title": "Second save"}, expected_revision=loaded
        )

    assert excinfo.value.code == "stale"
    after = fresh(proposal)
    assert after.title == "First save"
    assert after.revision == loaded + 1


def test_an_update_at_the_current_revision_is_saved_and_raises_the_revision():
    proposal, staff = ready_proposal()

    services.proposal_update(
        proposal=proposal, acting_user=staff[0], data={"title": "New"}, expected_revision=proposal.revision
    )

    after = fresh(proposal)
    assert after.title == "New"
    assert after.revision == proposal.revision + 1


def test_outsider_cannot_update_a_draft():
    proposal, _staff = ready_proposal()
    outsider = StaffFactory()

    with pytest.raises(NotAllowed):
        services.proposal_update(proposal=proposal, acting_user=outsider, data={"title": "Hijacked"})

    assert fresh(proposal).title != "Hijacked"


# --------------------------------------------------------------------------- audit


def test_a_status_change_is_in_the_history_with_the_acting_user():
    proposal, _staff, member = proposal_in(S.SUBMITTED)

    services.proposal_start_review(proposal=proposal, acting_user=member)

    record = proposal.history.order_by("-history_id").first()
    assert record.status == S.UNDER_REVIEW
    assert record.history_user == member
    assert record.history_change_reason == "start_review"


def test_a_budget_change_is_in_the_history_with_the_acting_user():
    proposal, staff = ready_proposal()

    line = add_line(proposal, staff[1], quantity="4", unit_cost="12.50")

    record = BudgetLine.history.get(id=line.pk)
    assert record.history_type == "+"
    assert record.history_user == staff[1]
    assert record.unit_cost == Decimal("12.50")


def test_an_approval_records_grant_and_decision_history_by_the_member():
    proposal, _staff, member = under_review()

    services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")

    grant_users = set(Grant.history.filter(proposal_id=proposal.pk).values_list("history_user", flat=True))
    decision_users = set(
        Decision.history.filter(proposal_id=proposal.pk).values_list("history_user", flat=True)
    )
    assert grant_users == decision_users == {member.pk}
    assert proposal.history.order_by("-history_id").first().history_user == member


def test_applicant_additions_are_in_the_history():
    proposal, staff = ready_proposal()
    newcomer = grantee_with_staff(proposal.cop)

    services.applicant_add(proposal=proposal, organisation=newcomer.organisation, acting_user=staff[0])

    applicant = Applicant.objects.get(proposal=proposal, organisation=newcomer.organisation)
    assert Applicant.history.get(id=applicant.pk).history_user == staff[0]


# --------------------------------------------------------------------------- snapshot


def test_the_snapshot_takes_the_same_queries_for_few_and_many_lines():
    counts = []
    for extra in (4, 120):
        proposal, staff = ready_proposal()
        BudgetLine.objects.bulk_create(
            BudgetLine(
                proposal=proposal,
                category=BudgetLine.Category.MEALS,
                description=f"Meal {i}",
                unit="person",
                quantity=Decimal("1"),
                unit_cost=Decimal("2.50"),
                currency="EUR",
            )
            for i in range(extra)
        )
        proposal = fresh(proposal)
        with CaptureQueriesContext(connection) as queries:
            snapshot = services.proposal_snapshot(proposal)
        assert len(snapshot["budget_lines"]) == extra + 1
        counts.append(len(queries))
    assert counts[0] == counts[1]
