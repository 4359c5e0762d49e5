"""The reads that pages make for many proposals at once (issue 13) say what the one-proposal
rules say: the same content digests, the same valid endorsements, the same conflicts of
interest; and their queries do not grow with the number of proposals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ccop.models import CoPPhase, RightsholderGroup
from proposals import permissions, services
from proposals.models import ConflictDeclaration, Proposal
from proposals.selectors import proposal_plan, proposals_for_user
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FundFactory,
    ready_proposal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied():
    """Proposals of one programme: endorsed, endorsed then changed (void), never endorsed, with a
    phase, rates, participants and several lines."""
    programme = CountryProgrammeFactory()
    fund = FundFactory(country_programme=programme)
    cop = CoPFactory(country_programme=programme)
    proposals = []
    for i in range(4):
        proposal, staff = ready_proposal(fund=fund, cop=cop, endorse=i != 2)
        if i == 1:  # a change after the endorsements voids them
            services.proposal_update(proposal=proposal, acting_user=staff[0], data={"title": "Changed"})
        if i == 3:
            phase = CoPPhase.objects.create(cop=cop, number=1, title="Phase one")
            services.proposal_update(proposal=proposal, acting_user=staff[0], data={"phase": phase})
            services.exchange_rate_set(
                proposal=proposal, acting_user=staff[0], currency="USD", rate=Decimal("0.9")
            )
            services.activity_add(
                proposal=proposal,
                acting_user=staff[0],
                title="Radio talk",
                agenda="10:00 Talk",
                participants={RightsholderGroup.objects.get(code="pwd"): 12},
            )
            for person in staff:
                services.proposal_endorse(proposal=proposal, acting_user=person)
        proposals.append(Proposal.objects.get(pk=proposal.pk))
    return proposals


def test_batch_digests_and_endorsements_equal_the_single_ones(varied):
    digests = services.proposal_content_digests(varied)
    snapshots = services.proposal_snapshots(varied)
    valid = services.valid_endorsement_organisation_ids_for(varied)
    for proposal in varied:
        fresh = Proposal.objects.get(pk=proposal.pk)
        assert digests[proposal.pk] == services.proposal_content_digest(fresh)
        assert snapshots[proposal.pk] == services.proposal_snapshot(fresh)
        assert valid[proposal.pk] == services.valid_endorsement_organisation_ids(fresh)
        plan = proposal_plan(fresh)
        assert services.plan_content_digest(fresh, plan) == digests[proposal.pk]
    assert [len(valid[p.pk]) for p in varied] == [2, 0, 0, 2]


def test_batch_reads_do_not_grow_with_the_proposals(varied):
    def queries(proposals) -> int:
        with CaptureQueriesContext(connection) as captured:
            services.valid_endorsement_organisation_ids_for(
                Proposal.objects.select_related("cop", "fund", "phase").filter(
                    pk__in=[p.pk for p in proposals]
                )
            )
        return len(captured)

    assert queries(varied[:1]) == queries(varied) <= 10


def test_conflicts_for_a_page_agree_with_the_rule(varied):
    programme_id = varied[0].cop.country_programme_id
    affiliated = CommitteeMemberFactory(country_programme_id=programme_id)
    affiliated.affiliations.add(varied[0].applicants.first().organisation)
    declared = CommitteeMemberFactory(country_programme_id=programme_id)
    ConflictDeclaration.objects.create(proposal=varied[2], member=declared, reason="Board member")
    clear = CommitteeMemberFactory(country_programme_id=programme_id)
    for member in (affiliated, declared, clear):
        expected = {p.pk for p in varied if permissions.has_conflict(member, p)}
        assert permissions.conflicted_proposal_ids(member, varied) == expected
        visible = proposals_for_user(member).filter(pk__in=[p.pk for p in varied])
        assert (
            set(permissions.without_conflicts(visible, member).values_list("pk", flat=True))
            == {p.pk for p in varied} - expected
        )
    assert permissions.conflicted_proposal_ids(affiliated, varied) == {varied[0].pk}
    assert permissions.conflicted_proposal_ids(declared, varied) == {varied[2].pk}
    assert permissions.conflicted_proposal_ids(clear, varied) == set()


def test_proposals_awaiting_endorsement_are_those_without_a_valid_one(varied):
    staff = varied[0].applicants.first().organisation.staff.first()
    waiting = services.proposals_awaiting_endorsement(user=staff, proposals=proposals_for_user(staff))
    # Every proposal of the fixture has this organisation as an applicant? Only the first.
    mine = {p.pk for p in varied if staff.organisation_id in {a.organisation_id for a in p.applicants.all()}}
    expected = {
        p
        for p in mine
        if staff.organisation_id
        not in services.valid_endorsement_organisation_ids(Proposal.objects.get(pk=p))
    }
    assert {p.pk for p in waiting} == expected
