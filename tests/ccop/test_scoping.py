"""Programme scoping in one place (`ccop.scoping`, each model's `visible_to(user)`): who sees
how far, and every model of a programme answers the same for the same person. The admin's use of
it is tried field by field in tests/security/test_admin_forms.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from ccop.models import CoP, CoPPhase, CountryProgramme, Organisation, RightsholderGroup, User
from ccop.scoping import EVERYTHING, NOTHING, Scope, scope_of
from ccop.selectors import cops_for_user, organisations_invitable_by
from grants.models import Fund
from grants.selectors import funds_for_facilitator
from proposals.models import ExchangeRate, ExpectedParticipation, Proposal, Review, ReviewCriterion
from proposals.selectors import proposals_for_user
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    FundFactory,
    StaffFactory,
    UserFactory,
    ready_proposal,
)

pytestmark = pytest.mark.django_db

# every model of a programme, with how its rows name the programme they belong to
PROGRAMME_OF = {
    "ccop.CountryProgramme": "pk",
    "ccop.Organisation": "country_programme",
    "ccop.CoP": "country_programme",
    "ccop.CoPPhase": "cop__country_programme",
    "ccop.Membership": "cop__country_programme",
    "grants.Fund": "country_programme",
    "grants.Grant": "fund__country_programme",
    "proposals.Proposal": "cop__country_programme",
    "proposals.Applicant": "proposal__cop__country_programme",
    "proposals.Endorsement": "proposal__cop__country_programme",
    "proposals.PlannedActivity": "proposal__cop__country_programme",
    "proposals.ExpectedParticipation": "activity__proposal__cop__country_programme",
    "proposals.BudgetLine": "proposal__cop__country_programme",
    "proposals.ExchangeRate": "proposal__cop__country_programme",
    "proposals.Transition": "proposal__cop__country_programme",
    "proposals.ProposalVersion": "proposal__cop__country_programme",
    "proposals.Decision": "proposal__cop__country_programme",
    "proposals.Review": "proposal__cop__country_programme",
    "proposals.ReviewScore": "review__proposal__cop__country_programme",
    "proposals.ConflictDeclaration": "proposal__cop__country_programme",
    "proposals.ReviewCriterion": "fund__country_programme",
}


@pytest.fixture
def two_programmes():
    """An approved proposal (with its review, scores, version, decision, grant) in each of two
    programmes, and a draft in the first."""
    from proposals import services
    from tests.factories import under_review

    built = {}
    for code, name in (("KH", "Voice Cambodia"), ("LA", "Voice Laos")):
        programme = CountryProgrammeFactory(code=code, name=name)
        cop = CoPFactory(country_programme=programme)
        CoPPhase.objects.create(cop=cop, number=1, title=f"Phase I {code}")
        fund = FundFactory(country_programme=programme)
        criterion = ReviewCriterion.objects.create(fund=fund, name=f"Relevance {code}")
        proposal, staff, member = under_review(cop=cop, fund=fund)
        ExpectedParticipation.objects.create(
            activity=proposal.activities.first(),
            rightsholder_group=RightsholderGroup.objects.first(),
            number=5,
        )
        ExchangeRate.objects.create(proposal=proposal, currency="USD", rate=Decimal("0.92"))
        services.review_record(
            proposal=proposal, reviewer=member, recommendation="approve", score=8, scores={criterion: 4}
        )
        services.conflict_declare(
            proposal=proposal, member=CommitteeMemberFactory(country_programme=programme), reason="x"
        )
        services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")
        built[code] = (programme, cop, staff)
    return built


def test_how_far_each_person_sees():
    programme = CountryProgrammeFactory()
    staff = StaffFactory()
    assert scope_of(AnonymousUser()) == NOTHING
    assert scope_of(UserFactory(is_superuser=True, role="")) == EVERYTHING
    assert scope_of(UserFactory(is_superuser=True, is_active=False, role="")) == NOTHING
    assert scope_of(FacilitatorFactory(country_programme=programme)) == Scope(programme_id=programme.pk)
    assert scope_of(FacilitatorFactory(country_programme=None)) == NOTHING
    assert scope_of(CommitteeMemberFactory(country_programme=programme)) == Scope(programme_id=programme.pk)
    assert scope_of(CommitteeMemberFactory(country_programme=None)) == EVERYTHING  # every committee
    assert scope_of(staff) == Scope(organisation_id=staff.organisation_id)
    assert scope_of(UserFactory(role="")) == NOTHING


@pytest.mark.parametrize("role", ["facilitator", "committee_member"])
def test_a_programmes_staff_see_exactly_their_programme_in_every_model(two_programmes, role):
    (kh, _cop, _staff), (la, *_rest) = two_programmes["KH"], two_programmes["LA"]
    person = UserFactory(role=role, country_programme=kh)
    for label, path in PROGRAMME_OF.items():
        model = apps.get_model(label)
        visible = set(model.objects.visible_to(person).values_list("pk", flat=True))
        mine = set(model.objects.filter(**{path: kh.pk}).values_list("pk", flat=True))
        theirs = set(model.objects.filter(**{path: la.pk}).values_list("pk", flat=True))
        assert mine and theirs, f"the fixture has no {label} on a side"
        assert visible == mine, label


def test_people_of_a_programme(two_programmes):
    kh = two_programmes["KH"][0]
    facilitator = FacilitatorFactory(country_programme=kh)
    superuser = UserFactory(is_superuser=True, role="", country_programme=kh)
    visible = set(User.objects.visible_to(facilitator))
    assert facilitator in visible and superuser not in visible
    assert set(two_programmes["KH"][2]) <= visible  # the staff of its organisations
    assert not set(two_programmes["LA"][2]) & visible
    assert superuser in User.objects.visible_to(superuser)


def test_grantee_staff_see_their_organisations_cops_and_not_the_committees_records(two_programmes):
    _kh, cop, staff = two_programmes["KH"]
    person = staff[0]
    assert set(CoP.objects.visible_to(person)) == {cop}
    assert set(Proposal.objects.visible_to(person)) == set(cop.proposals.all())
    assert set(Organisation.objects.visible_to(person)) == {m.organisation for m in cop.memberships.all()}
    assert set(CountryProgramme.objects.visible_to(person)) == {cop.country_programme}
    assert not Review.objects.visible_to(person).exists()
    assert not ReviewCriterion.objects.visible_to(person).exists()
    assert set(Fund.objects.visible_to(person)) == set(
        Fund.objects.filter(country_programme=cop.country_programme)
    )


def test_the_selectors_read_through_visible_to(two_programmes):
    kh = two_programmes["KH"][0]
    for person in (
        FacilitatorFactory(country_programme=kh),
        CommitteeMemberFactory(country_programme=kh),
        two_programmes["KH"][2][0],
        UserFactory(is_superuser=True, role=""),
    ):
        assert set(proposals_for_user(person)) == set(Proposal.objects.visible_to(person))
        assert set(cops_for_user(person)) == set(CoP.objects.visible_to(person))
    facilitator = FacilitatorFactory(country_programme=kh)
    assert set(organisations_invitable_by(facilitator)) == set(
        Organisation.objects.filter(country_programme=kh)
    )
    assert set(funds_for_facilitator(facilitator)) == set(Fund.objects.filter(country_programme=kh))
    committee = CommitteeMemberFactory(country_programme=kh)
    assert (
        not organisations_invitable_by(committee).exists() and not funds_for_facilitator(committee).exists()
    )


def test_a_draft_is_seen_by_its_programme_only(two_programmes):
    kh, cop, _staff = two_programmes["KH"]
    draft, _draft_staff = ready_proposal(cop=cop, fund=Fund.objects.filter(country_programme=kh).first())
    la_facilitator = FacilitatorFactory(country_programme=two_programmes["LA"][0])
    assert draft not in Proposal.objects.visible_to(la_facilitator)
    assert draft in Proposal.objects.visible_to(FacilitatorFactory(country_programme=kh))
