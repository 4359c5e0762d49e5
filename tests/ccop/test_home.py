"""The home page at the size of a programme (issue 13): every panel bounded, a count and a link
to the paginated list where there is more; the committee's list of proposals to review leaves
out those it has a conflict with and is paginated; endorsements waiting are checked for many
proposals at once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from proposals import services
from proposals.home import REVIEW_PAGE
from proposals.models import ConflictDeclaration, Proposal
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FundFactory,
    ready_proposal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme_with_submissions():
    programme = CountryProgrammeFactory()
    fund = FundFactory(country_programme=programme)
    cop = CoPFactory(country_programme=programme)
    proposals = []
    for _ in range(REVIEW_PAGE + 3):
        proposal, staff = ready_proposal(fund=fund, cop=cop)
        services.proposal_submit(proposal=proposal, acting_user=staff[0])
        proposals.append(Proposal.objects.get(pk=proposal.pk))
    return programme, proposals


def test_the_committee_sees_a_page_of_proposals_to_review_without_its_conflicts(
    client, programme_with_submissions
):
    programme, proposals = programme_with_submissions
    member = CommitteeMemberFactory(country_programme=programme)
    member.affiliations.add(proposals[0].applicants.first().organisation)
    ConflictDeclaration.objects.create(proposal=proposals[1], member=member, reason="Board member")
    client.force_login(member)

    first = client.get(reverse("home")).content.decode()
    reviewable = len(proposals) - 2
    assert f"{reviewable} proposals to review" in first
    assert first.count("/admin/proposals/proposal/") == REVIEW_PAGE
    assert "?review_page=2" in first
    second = client.get(reverse("home"), {"review_page": 2}).content.decode()
    listed = first.count("/admin/proposals/proposal/") + second.count("/admin/proposals/proposal/")
    assert listed == reviewable
    for conflicted in proposals[:2]:
        link = reverse("admin:proposals_proposal_change", args=[conflicted.pk])
        assert link not in first and link not in second


def test_states_show_a_count_the_most_recent_and_a_link_to_the_rest(client, programme_with_submissions):
    programme, proposals = programme_with_submissions
    client.force_login(CommitteeMemberFactory(country_programme=programme))
    html = client.get(reverse("home")).content.decode()
    assert f'Submitted <span class="badge text-bg-secondary">{len(proposals)}</span>' in html
    assert f"All {len(proposals)} proposals: Submitted" in html
    assert f'href="{reverse("proposals:proposal-list")}?status=submitted"' in html
    listing = client.get(reverse("proposals:proposal-list"), {"status": "submitted"}).content.decode()
    assert f"{len(proposals)} proposals" in listing and "Proposals: Submitted" in listing


def test_endorsements_waiting_are_those_of_the_persons_organisation_not_validly_given(client):
    proposal, staff = ready_proposal()  # endorsed by both applicants
    other, other_staff = ready_proposal(cop=proposal.cop, fund=proposal.fund, endorse=False)
    services.applicant_add(proposal=other, organisation=staff[0].organisation, acting_user=other_staff[0])
    changed, changed_staff = ready_proposal(cop=proposal.cop, fund=proposal.fund, applicants=2)
    services.applicant_add(proposal=changed, organisation=staff[0].organisation, acting_user=changed_staff[0])
    services.proposal_endorse(proposal=changed, acting_user=staff[0])
    services.proposal_update(proposal=changed, acting_user=changed_staff[0], data={"title": "Changed since"})
    client.force_login(staff[0])
    html = client.get(reverse("home")).content.decode()
    waiting = html[html.index("Endorsements waiting for your organisation") :]
    waiting = waiting[: waiting.index("</ul>")]
    assert reverse("proposals:proposal-detail", args=[other.pk]) in waiting  # never endorsed
    assert reverse("proposals:proposal-detail", args=[changed.pk]) in waiting  # void since the change
    assert reverse("proposals:proposal-detail", args=[proposal.pk]) not in waiting  # valid


def test_a_revision_request_shows_the_committees_latest_reason(client):
    from tests.factories import under_review

    proposal, staff, member = under_review()
    services.proposal_request_revision(
        proposal=proposal, acting_user=member, comment="Detail the second day."
    )
    client.force_login(staff[0])
    html = client.get(reverse("home")).content.decode()
    section = html[html.index("Revision requested by the committee") :]
    assert reverse("proposals:proposal-detail", args=[proposal.pk]) in section
    assert "<q>Detail the second day.</q>" in section
