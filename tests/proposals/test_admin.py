"""The rules of DESIGN.md through the Django admin: its workflow actions, the intermediate reason
page, the change forms and their inlines, and the child admins. Each refusal reaches the person
as an admin message or a form error (never a 500) and leaves the data as it was."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import Fund, Grant
from proposals import services
from proposals.models import BudgetLine, ConflictDeclaration, Decision, Proposal, Review
from tests.admin_helpers import (
    admin_url,
    form_data,
    messages_of,
    page_text,
    run_action,
    superuser,
    with_admin_permissions,
)
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    FundFactory,
    ready_proposal,
    under_review,
)

pytestmark = pytest.mark.django_db

S = Proposal.Status
REASONS = "Two grantees, clear agenda, budget within the fund."


def submitted(**kwargs) -> Proposal:
    proposal, staff = ready_proposal(**kwargs)
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    proposal.refresh_from_db()
    return proposal


def approved(**kwargs) -> Proposal:
    proposal, _staff, member = under_review(**kwargs)
    services.proposal_approve(proposal=proposal, acting_user=member, reasons=REASONS)
    proposal.refresh_from_db()
    return proposal


def approve_through_admin(client, proposals, amount: str = ""):
    """The approve action as the admin runs it: the intermediate page, then its form posted."""
    page = run_action(client, Proposal, "approve", proposals)
    assert page.status_code == 200
    assert page.templates[0].name == "admin/proposals/reason_action.html"
    return run_action(client, Proposal, "approve", proposals, apply="1", reason=REASONS, amount=amount)


def conflicted_member(proposal: Proposal, how: str):
    """A committee member of the programme affiliated with an applicant organisation."""
    organisation = proposal.applicants.first().organisation
    programme = proposal.cop.country_programme
    if how == "organisation":
        member = CommitteeMemberFactory(country_programme=programme, organisation=organisation)
    else:
        member = CommitteeMemberFactory(country_programme=programme)
        member.affiliations.add(organisation)
    return with_admin_permissions(member)


@pytest.fixture
def admin(client):
    user = superuser()
    client.force_login(user)
    return user


# --------------------------------------------------------------------------- 1. two-grantee rule


def test_submit_action_refuses_a_one_organisation_proposal(client, admin):
    proposal, _staff = ready_proposal(applicants=1)

    response = run_action(client, Proposal, "submit", [proposal])

    assert response.status_code == 200
    assert response.redirect_chain == [(admin_url(Proposal), 302)]
    text = " ".join(messages_of(response))
    assert "needs at least two grantee partner organisations" in text
    assert "At least two grantee partner organisations must endorse the proposal (now 1)" in text
    assert "needs at least two grantee partner organisations" in page_text(response)
    proposal.refresh_from_db()
    assert proposal.status == S.DRAFT
    assert proposal.submitted_at is None
    assert not proposal.transitions.exists()


def test_submit_action_submits_a_proposal_two_grantees_endorsed(client, admin):
    proposal, _staff = ready_proposal()

    response = run_action(client, Proposal, "submit", [proposal])

    assert "Submitted: 1 proposal." in messages_of(response)
    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED
    assert proposal.transitions.get().actor == admin


# --------------------------------------------------------------------------- 2. ceiling


def test_approve_action_through_the_reason_page_creates_the_grant(client):
    proposal, _staff, member = under_review(amount=Decimal("9000.00"))
    client.force_login(with_admin_permissions(member))

    response = approve_through_admin(client, [proposal])

    assert "Approved: 1 proposal." in messages_of(response)
    proposal.refresh_from_db()
    assert proposal.status == S.APPROVED
    grant = Grant.objects.get(proposal=proposal)
    assert (grant.amount, grant.currency, grant.approved_by) == (Decimal("9000.00"), "EUR", member)
    decision = Decision.objects.get(proposal=proposal)
    assert decision.reasons == REASONS
    assert len(decision.approved_version_sha256) == 64
    step = proposal.transitions.get(to_status=S.APPROVED)
    assert (step.actor, step.reason) == (member, REASONS)


def test_approve_action_without_a_reason_shows_the_page_again(client, admin):
    proposal, _staff, _member = under_review()

    response = run_action(client, Proposal, "approve", [proposal], apply="1", reason="")

    assert response.status_code == 200
    assert response.templates[0].name == "admin/proposals/reason_action.html"
    assert response.context["form"].errors["reason"]
    proposal.refresh_from_db()
    assert proposal.status == S.UNDER_REVIEW
    assert not Grant.objects.exists()


def _over_the_ceiling():
    """A fund of EUR 50,000 with EUR 45,000 approved and a EUR 9,000 proposal under review."""
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme, ceiling=Decimal("50000.00"))
    waiting, _staff, _member = under_review(fund=fund, cop=cop, amount=Decimal("9000.00"))
    approved(fund=fund, cop=cop, amount=Decimal("45000.00"))
    return fund, waiting


def test_approve_action_past_the_ceiling_is_refused_with_the_remaining_balance(client, admin):
    fund, proposal = _over_the_ceiling()

    response = approve_through_admin(client, [proposal])

    text = " ".join(messages_of(response))
    assert "would take the fund over its ceiling of EUR 50,000.00" in text
    assert "only EUR 5,000.00 remains" in text
    assert "Approved:" not in text
    proposal.refresh_from_db()
    assert proposal.status == S.UNDER_REVIEW
    assert not Decision.objects.filter(proposal=proposal).exists()
    assert not Grant.objects.filter(proposal=proposal).exists()
    assert not proposal.transitions.filter(to_status=S.APPROVED).exists()
    assert fund.approved_total() == Decimal("45000.00")


def test_approve_action_on_two_proposals_that_fit_only_one_at_a_time(client, admin):
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme, ceiling=Decimal("10000.00"))
    first, _staff, _member = under_review(fund=fund, cop=cop, amount=Decimal("6000.00"))
    second, _staff, _member = under_review(fund=fund, cop=cop, amount=Decimal("6000.00"))

    response = approve_through_admin(client, [first, second])

    texts = messages_of(response)
    assert "Approved: 1 proposal." in texts
    assert any("only EUR 4,000.00 remains" in t for t in texts)
    assert Grant.objects.filter(fund=fund).count() == 1
    assert fund.approved_total() == Decimal("6000.00")
    assert sorted(Proposal.objects.values_list("status", flat=True)) == [S.APPROVED, S.UNDER_REVIEW]


def test_approve_action_over_the_cap_per_proposal_is_refused(client, admin):
    proposal, _staff, _member = under_review(amount=Decimal("9000.00"))
    proposal.fund.per_proposal_cap = Decimal("8000.00")
    proposal.fund.save()

    response = approve_through_admin(client, [proposal])

    assert "over the fund's cap of EUR 8,000.00 per proposal" in " ".join(messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == S.UNDER_REVIEW
    assert not Grant.objects.exists()


def test_approve_action_with_an_amount_other_than_the_budget_is_refused(client, admin):
    proposal, _staff, _member = under_review(amount=Decimal("1000.00"))

    response = approve_through_admin(client, [proposal], amount="900.00")

    assert "The budget's total is EUR 1,000.00, not EUR 900.00" in " ".join(messages_of(response))
    assert not Grant.objects.exists()


def test_fund_admin_refuses_a_ceiling_below_what_is_approved(client, admin):
    fund, _waiting = _over_the_ceiling()
    url = admin_url(Fund, "change", fund.pk)
    data = form_data(client.get(url))
    data["ceiling"] = "40000.00"

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert "EUR 45,000.00" in page_text(response)
    fund.refresh_from_db()
    assert fund.ceiling == Decimal("50000.00")


def test_fund_admin_refuses_another_currency_once_grants_exist(client, admin):
    fund, _waiting = _over_the_ceiling()
    url = admin_url(Fund, "change", fund.pk)
    data = form_data(client.get(url))
    data["currency"] = "USD"

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    fund.refresh_from_db()
    assert fund.currency == "EUR"


def test_fund_admin_refuses_a_cap_over_the_ceiling(client, admin):
    fund = FundFactory(ceiling=Decimal("50000.00"))
    url = admin_url(Fund, "change", fund.pk)
    data = form_data(client.get(url))
    data["per_proposal_cap"] = "60000.00"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "The cap per proposal cannot exceed the fund's ceiling." in page_text(response)
    fund.refresh_from_db()
    assert fund.per_proposal_cap is None


def test_fund_admin_raises_a_ceiling(client, admin):
    fund, waiting = _over_the_ceiling()
    url = admin_url(Fund, "change", fund.pk)
    data = form_data(client.get(url))
    data["ceiling"] = "60000.00"

    assert client.post(url, data).status_code == 302
    approve_through_admin(client, [waiting])
    assert fund.approved_total() == Decimal("54000.00")


# --------------------------------------------------------------------------- 3. workflow


def test_approve_action_on_a_draft_is_an_invalid_transition(client, admin):
    proposal, _staff = ready_proposal()

    response = approve_through_admin(client, [proposal])

    assert "A proposal that is draft cannot become approved." in " ".join(messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == S.DRAFT
    assert not Grant.objects.exists()
    assert not Decision.objects.exists()


def test_start_review_action_on_a_draft_is_an_invalid_transition(client, admin):
    proposal, _staff = ready_proposal()

    response = run_action(client, Proposal, "start_review", [proposal])

    assert "A proposal that is draft cannot become under review." in " ".join(messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == S.DRAFT


def test_reject_action_records_who_and_why(client, admin):
    proposal, _staff, _member = under_review()

    run_action(client, Proposal, "reject", [proposal], apply="1", reason="Outside the fund's scope.")

    proposal.refresh_from_db()
    assert proposal.status == S.REJECTED
    step = proposal.transitions.get(to_status=S.REJECTED)
    assert (step.actor, step.reason) == (admin, "Outside the fund's scope.")
    assert proposal.decision.outcome == Decision.Outcome.REJECTED


# --------------------------------------------------------------------------- 5. conflict of interest


@pytest.mark.parametrize("how", ["organisation", "affiliation"])
def test_conflicted_member_cannot_start_the_review(client, how):
    proposal = submitted()
    client.force_login(conflicted_member(proposal, how))

    response = run_action(client, Proposal, "start_review", [proposal])

    assert response.status_code == 200
    assert "affiliated with an applicant organisation" in " ".join(messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED


@pytest.mark.parametrize("how", ["organisation", "affiliation"])
def test_conflicted_member_cannot_approve(client, how):
    proposal, _staff, _member = under_review()
    client.force_login(conflicted_member(proposal, how))

    response = approve_through_admin(client, [proposal])

    assert "affiliated with an applicant organisation" in " ".join(messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == S.UNDER_REVIEW
    assert not Grant.objects.exists()
    assert not Decision.objects.exists()


@pytest.mark.parametrize("how", ["organisation", "affiliation"])
def test_conflicted_member_cannot_add_a_review(client, how):
    proposal, _staff, _member = under_review()
    client.force_login(conflicted_member(proposal, how))

    response = client.post(
        admin_url(Review, "add"),
        {"proposal": proposal.pk, "recommendation": "approve", "score": "9", "comment": "Good."},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert "affiliated with an applicant organisation" in page_text(response)
    assert not Review.objects.exists()


def test_member_without_a_conflict_adds_a_review(client):
    proposal, _staff, member = under_review()
    client.force_login(with_admin_permissions(member))

    response = client.post(
        admin_url(Review, "add"),
        {"proposal": proposal.pk, "recommendation": "approve", "score": "9", "comment": "Good."},
    )

    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.proposal, review.reviewer, review.score) == (proposal, member, 9)


def test_conflict_declared_in_the_admin_stops_the_member_deciding(client):
    proposal, _staff, member = under_review()
    client.force_login(with_admin_permissions(member))

    response = client.post(
        admin_url(ConflictDeclaration, "add"), {"proposal": proposal.pk, "reason": "I advise WPM."}
    )

    assert response.status_code == 302
    declaration = ConflictDeclaration.objects.get()
    assert (declaration.proposal, declaration.member) == (proposal, member)
    response = approve_through_admin(client, [proposal])
    assert "declared a conflict of interest" in " ".join(messages_of(response))
    assert not Grant.objects.exists()


# --------------------------------------------------------------------------- 4. freeze


def _logged_in_as(client, role: str, proposal: Proposal):
    programme = proposal.cop.country_programme
    if role == "superuser":
        user = superuser()
    elif role == "facilitator":
        user = with_admin_permissions(FacilitatorFactory(country_programme=programme))
    else:
        user = with_admin_permissions(CommitteeMemberFactory(country_programme=programme))
    client.force_login(user)
    return user


def _assert_read_only_change_page(response):
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert not response.context["has_change_permission"]
    for inline in response.context["inline_admin_formsets"]:
        assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
    text = page_text(response)
    assert 'name="title"' not in text
    assert 'name="_save"' not in text


@pytest.mark.parametrize("state", ["submitted", "approved"])
@pytest.mark.parametrize("role", ["superuser", "facilitator"])
def test_change_page_of_a_frozen_proposal_is_read_only(client, state, role):
    proposal = submitted() if state == "submitted" else approved()
    _logged_in_as(client, role, proposal)
    url = admin_url(Proposal, "change", proposal.pk)

    _assert_read_only_change_page(client.get(url))

    data = form_data(client.get(url))
    data.update(
        title="Changed after the freeze", cop=proposal.cop_id, fund=proposal.fund_id, objectives="Other."
    )
    response = client.post(url, data)
    assert response.status_code == 403
    unchanged = Proposal.objects.get(pk=proposal.pk)
    assert unchanged.title == proposal.title
    assert unchanged.objectives == proposal.objectives
    assert unchanged.revision == proposal.revision
    assert unchanged.status == state


def test_committee_member_cannot_edit_a_draft(client):
    proposal, _staff = ready_proposal()
    _logged_in_as(client, "committee_member", proposal)
    url = admin_url(Proposal, "change", proposal.pk)

    _assert_read_only_change_page(client.get(url))

    response = client.post(url, {"title": "Committee's own title", "cop": proposal.cop_id})
    assert response.status_code == 403
    unchanged = Proposal.objects.get(pk=proposal.pk)
    assert (unchanged.title, unchanged.revision) == (proposal.title, proposal.revision)


def test_frozen_proposal_cannot_be_deleted_from_the_changelist(client, admin):
    proposal = submitted()

    response = client.post(
        admin_url(Proposal),
        {"action": "delete_selected", "_selected_action": [proposal.pk], "post": "yes"},
        follow=True,
    )

    assert response.status_code in {200, 403}
    assert Proposal.objects.filter(pk=proposal.pk).exists()


def test_budget_line_admin_refuses_to_change_a_line_of_an_approved_proposal(client, admin):
    proposal = approved()
    line = proposal.budget_lines.get()
    url = admin_url(BudgetLine, "change", line.pk)

    page = client.get(url)
    assert page.status_code == 200
    assert page.context["adminform"].form.fields == {}

    response = client.post(
        url,
        {
            "proposal": proposal.pk,
            "category": line.category,
            "description": "Venue hire, bigger",
            "unit": line.unit,
            "quantity": "3",
            "unit_cost": str(line.unit_cost),
            "currency": line.currency,
            "order": "0",
        },
    )
    assert response.status_code == 403
    line.refresh_from_db()
    assert (line.description, line.quantity) == ("Venue hire", Decimal("1.00"))


def test_budget_line_admin_refuses_to_add_a_line_to_an_approved_proposal(client, admin):
    proposal = approved()

    response = client.post(
        admin_url(BudgetLine, "add"),
        {
            "proposal": proposal.pk,
            "category": BudgetLine.Category.MEALS,
            "description": "Lunch",
            "unit": "person",
            "quantity": "40",
            "unit_cost": "5.00",
            "currency": "EUR",
            "order": "1",
        },
    )

    assert response.status_code == 200
    assert "This proposal is approved and can no longer be changed." in page_text(response)
    assert proposal.budget_lines.count() == 1


def test_budget_line_admin_cannot_delete_a_line_of_an_approved_proposal(client, admin):
    proposal = approved()
    line = proposal.budget_lines.get()

    assert client.post(admin_url(BudgetLine, "delete", line.pk), {"post": "yes"}).status_code == 403
    client.post(
        admin_url(BudgetLine),
        {"action": "delete_selected", "_selected_action": [line.pk], "post": "yes"},
        follow=True,
    )
    assert BudgetLine.objects.filter(pk=line.pk).exists()


def _new_budget_line_row(data: dict, **fields) -> dict:
    index = int(data["budget_lines-TOTAL_FORMS"])
    row = {
        "category": BudgetLine.Category.MEALS,
        "description": "Lunch for participants",
        "unit": "person",
        "quantity": "40",
        "unit_cost": "5.00",
        "currency": "EUR",
        **fields,
    }
    data.update({f"budget_lines-{index}-{name}": value for name, value in row.items()})
    data["budget_lines-TOTAL_FORMS"] = str(index + 1)
    return data


def test_inline_budget_line_in_a_currency_the_fund_does_not_accept_shows_an_error(client, admin):
    proposal, _staff = ready_proposal()
    url = admin_url(Proposal, "change", proposal.pk)
    data = _new_budget_line_row(form_data(client.get(url)), currency="THB")

    response = client.post(url, data)

    assert response.status_code == 200
    assert "The fund does not accept THB; use one of EUR, USD, KHR." in page_text(response)
    assert proposal.budget_lines.count() == 1
    assert Proposal.objects.get(pk=proposal.pk).revision == proposal.revision


def test_inline_budget_line_in_an_accepted_currency_is_saved(client, admin):
    proposal, _staff = ready_proposal()
    url = admin_url(Proposal, "change", proposal.pk)
    data = _new_budget_line_row(form_data(client.get(url)), currency="EUR")

    response = client.post(url, data)

    assert response.status_code == 302
    assert proposal.budget_lines.count() == 2


# --------------------------------------------------------------------------- 1 + 4. revision voids endorsements


def _edit_title(data: dict) -> dict:
    data["title"] = "Amplify the voice of the community through theatre and film"
    return data


def _edit_budget_line(data: dict) -> dict:
    data["budget_lines-0-quantity"] = "2"
    return data


@pytest.mark.parametrize("edit", [_edit_title, _edit_budget_line], ids=["narrative", "budget-inline"])
def test_admin_edit_of_a_draft_raises_the_revision_and_voids_endorsements(client, admin, edit):
    proposal, _staff = ready_proposal()
    assert len(services.valid_endorsement_organisation_ids(proposal)) == 2
    url = admin_url(Proposal, "change", proposal.pk)

    response = client.post(url, edit(form_data(client.get(url))))

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    edited = Proposal.objects.get(pk=proposal.pk)
    assert edited.revision > proposal.revision
    assert edited.endorsements.count() == 2  # kept for the record
    assert services.valid_endorsement_organisation_ids(edited) == set()

    response = run_action(client, Proposal, "submit", [edited])

    text = " ".join(messages_of(response))
    assert "endorsed an earlier version; the proposal changed since, so it must endorse again" in text
    edited.refresh_from_db()
    assert edited.status == S.DRAFT


def test_fund_of_a_draft_cannot_be_moved_to_another_programme_through_the_admin(client, admin):
    proposal, _staff = ready_proposal()
    laos = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")
    other_fund = FundFactory(country_programme=laos)
    url = admin_url(Proposal, "change", proposal.pk)
    data = form_data(client.get(url))
    data["fund"] = other_fund.pk

    response = client.post(url, data)

    assert response.status_code in {200, 302}
    assert Proposal.objects.get(pk=proposal.pk).fund_id == proposal.fund_id


# --------------------------------------------------------------------------- the changelist


def _proposal_changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(Proposal))
    assert response.status_code == 200
    return len(queries)


def test_proposal_changelist_query_count_does_not_grow_with_rows(client, admin):
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme, ceiling=Decimal("1000000.00"))

    def add(n: int) -> None:
        for i in range(n):
            proposal, staff = ready_proposal(fund=fund, cop=cop)
            if i % 3 == 1:
                services.proposal_submit(proposal=proposal, acting_user=staff[0])

    add(3)
    client.get(admin_url(Proposal))  # warm the session and content-type caches
    small = _proposal_changelist_queries(client)
    add(27)
    large = _proposal_changelist_queries(client)

    assert Proposal.objects.count() == 30
    assert large == small


# --------------------------------------------------------------------------- grants are created, never edited


def test_grant_admin_has_no_add_change_or_delete(client, admin):
    proposal = approved()
    grant = proposal.grant

    assert client.get(admin_url(Grant, "add")).status_code == 403
    page = client.get(admin_url(Grant, "change", grant.pk))
    assert page.status_code == 200
    assert page.context["adminform"].form.fields == {}
    assert 'name="_save"' not in page_text(page)
    assert client.post(admin_url(Grant, "change", grant.pk), {"amount": "1.00"}).status_code == 403
    assert client.get(admin_url(Grant, "delete", grant.pk)).status_code == 403
    assert client.post(admin_url(Grant, "delete", grant.pk), {"post": "yes"}).status_code == 403
    changelist = client.get(admin_url(Grant))
    assert changelist.status_code == 200
    actions = [value for value, _label in changelist.context["action_form"].fields["action"].choices if value]
    assert actions == ["verify_pdfs"]  # checking, never "delete selected"
    grant.refresh_from_db()
    assert grant.amount == Decimal("1000.00")


def test_budget_line_with_a_negative_cost_is_a_form_error(client, admin):
    proposal, _staff = ready_proposal()
    response = client.post(
        admin_url(BudgetLine, "add"),
        {
            "proposal": proposal.pk,
            "category": BudgetLine.Category.MEALS,
            "description": "Refund",
            "unit": "lump sum",
            "quantity": "1",
            "unit_cost": "-100.00",
            "currency": "EUR",
            "order": "1",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert proposal.budget_lines.count() == 1


def test_budget_line_admin_refuses_a_currency_the_fund_does_not_accept(client, admin):
    proposal, _staff = ready_proposal()
    response = client.post(
        admin_url(BudgetLine, "add"),
        {
            "proposal": proposal.pk,
            "category": BudgetLine.Category.MEALS,
            "description": "Lunch",
            "unit": "person",
            "quantity": "40",
            "unit_cost": "150.00",
            "currency": "THB",
            "order": "1",
        },
    )

    assert response.status_code == 200
    assert "The fund does not accept THB" in page_text(response)
    assert proposal.budget_lines.count() == 1
    assert Proposal.objects.get(pk=proposal.pk).revision == proposal.revision
