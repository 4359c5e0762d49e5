"""The committee decides on the proposal's change page: the fund's figures are shown, the
decisions are offered only to who may take them, and every refusal is a message."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ccop.roles import user_set_role
from grants.models import Grant
from proposals.models import Proposal, Review, ReviewCriterion
from tests.admin_helpers import page_text
from tests.factories import CommitteeMemberFactory, FundFactory, under_review

pytestmark = pytest.mark.django_db


def _decide_url(proposal, decision):
    return reverse("admin:proposals_proposal_decide", args=[proposal.pk, decision])


def _member(proposal, **kwargs):
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme, **kwargs)
    return user_set_role(user=member, role=member.role)


def test_change_page_shows_fund_figures_and_the_decisions(client):
    proposal, _staff, _ = under_review(amount=Decimal("9000.00"))
    member = _member(proposal)
    client.force_login(member)
    text = page_text(client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])))
    assert "EUR 50,000.00" in text and "Remaining" in text and "EUR 9,000.00" in text
    assert _decide_url(proposal, "approve") in text and _decide_url(proposal, "reject") in text


def test_approve_on_the_change_page_creates_the_grant(client, django_capture_on_commit_callbacks):
    proposal, _staff, _ = under_review(amount=Decimal("9000.00"))
    member = _member(proposal)
    client.force_login(member)
    assert "Remaining" in page_text(client.get(_decide_url(proposal, "approve")))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _decide_url(proposal, "approve"), {"reason": "Relevant and feasible.", "amount": "9000.00"}
        )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert Grant.objects.get(proposal=proposal).amount == Decimal("9000.00")


def test_approving_past_the_ceiling_is_a_message_with_the_remaining_balance(client):
    fund = FundFactory(ceiling=Decimal("10000.00"))
    first, _s, member = under_review(fund=fund, amount=Decimal("8000.00"))
    second, _s2, _m = under_review(fund=fund, amount=Decimal("3000.00"))  # each fits alone
    from proposals import services

    services.proposal_approve(proposal=first, acting_user=member, reasons="ok")
    member = _member(second)
    client.force_login(member)
    response = client.post(_decide_url(second, "approve"), {"reason": "Good."})
    assert response.status_code == 200
    assert "only EUR 2,000.00 remains" in page_text(response)
    second.refresh_from_db()
    assert (
        second.status == Proposal.Status.UNDER_REVIEW and not Grant.objects.filter(proposal=second).exists()
    )


def test_a_conflicted_member_is_not_offered_the_decisions_and_cannot_force_them(client):
    proposal, staff, _ = under_review()
    conflicted = _member(proposal, organisation=staff[0].organisation)
    client.force_login(conflicted)
    text = page_text(client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])))
    assert "conflict of interest" in text
    assert _decide_url(proposal, "approve") not in text
    response = client.post(_decide_url(proposal, "approve"), {"reason": "forced"}, follow=True)
    assert "conflict of interest" in page_text(response)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.UNDER_REVIEW


def test_revision_request_needs_a_comment_and_names_the_amount(client):
    proposal, _staff, _ = under_review(amount=Decimal("5000.00"))
    member = _member(proposal)
    client.force_login(member)
    response = client.post(_decide_url(proposal, "request_revision"), {"reason": ""})
    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.UNDER_REVIEW
    client.post(_decide_url(proposal, "request_revision"), {"reason": "Fund 4,000 only.", "amount": "4000"})
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.REVISION_REQUESTED
    assert "EUR 4,000.00" in proposal.transitions.last().reason


def test_review_with_scores_on_the_funds_criteria(client):
    proposal, _staff, _ = under_review()
    relevance = ReviewCriterion.objects.create(fund=proposal.fund, name="Relevance", max_score=5)
    member = _member(proposal)
    client.force_login(member)
    url = reverse("admin:proposals_review_add") + f"?proposal={proposal.pk}"
    assert "Relevance" in page_text(client.get(url))
    too_high = client.post(
        url, {"proposal": proposal.pk, "recommendation": "approve", f"criterion_{relevance.pk}": "9"}
    )
    assert too_high.status_code == 200 and not Review.objects.exists()
    client.post(url, {"proposal": proposal.pk, "recommendation": "approve", f"criterion_{relevance.pk}": "4"})
    review = Review.objects.get()
    assert [(s.criterion.name, s.score) for s in review.scores.all()] == [("Relevance", 4)]


def test_proposal_list_shows_days_waiting_and_is_scoped_to_the_programme(client):
    from tests.factories import CountryProgrammeFactory, FacilitatorFactory

    proposal, _staff, _ = under_review()
    member = _member(proposal)
    client.force_login(member)
    text = page_text(client.get(reverse("admin:proposals_proposal_changelist")))
    assert "days waiting" in text.lower() and proposal.title in text
    laos = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")
    outsider = FacilitatorFactory(country_programme=laos)
    user_set_role(user=outsider, role=outsider.role)
    client.force_login(outsider)
    assert proposal.title not in page_text(client.get(reverse("admin:proposals_proposal_changelist")))
    assert client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk])).status_code in (
        302,
        404,
    )


def test_verify_pdfs_admin_action_reports_a_tampered_file(client):
    from proposals import services
    from tests.admin_helpers import superuser

    proposal, _staff, member = under_review()
    services.proposal_approve(proposal=proposal, acting_user=member, reasons="ok")
    grant = Grant.objects.get(proposal=proposal)
    admin_user = superuser()
    client.force_login(admin_user)
    url = reverse("admin:grants_grant_changelist")
    ok = client.post(url, {"action": "verify_pdfs", "_selected_action": [grant.pk]}, follow=True)
    assert "All 1 PDFs match" in page_text(ok)
    with grant.pdf.open("ab") as handle:
        handle.write(b"tampered")
    bad = client.post(url, {"action": "verify_pdfs", "_selected_action": [grant.pk]}, follow=True)
    assert "1 of 1 PDFs differ" in page_text(bad)
