"""Regression tests for what the permission matrix found in the admin: another programme's
review criteria (listed, changed, deleted, and criteria added to its funds), expected
participants and country programme reachable by a facilitator, and list filters naming another
programme's CoPs, funds and organisations. (The history pages' leak it also
found is fixed and tested with the audit trail: ccop/audit.py, tests/ccop/test_audit.py.)"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ccop.models import CountryProgramme, RightsholderGroup, User
from ccop.roles import user_set_role
from proposals.models import ExpectedParticipation, Proposal, ReviewCriterion
from tests.factories import CoPFactory, CountryProgrammeFactory, FundFactory, UserFactory, ready_proposal

pytestmark = pytest.mark.django_db


def person(role: str, programme: CountryProgramme) -> Client:
    user = UserFactory(country_programme=programme)
    user_set_role(user=user, role=role)
    client = Client()
    client.force_login(user)  # verified two-step login: tests/conftest.py
    return client


@pytest.fixture
def programmes():
    return CountryProgrammeFactory(code="KH"), CountryProgrammeFactory(code="LA", name="Voice Laos")


@pytest.fixture
def proposal_a(programmes) -> Proposal:
    proposal, _staff = ready_proposal()  # in the KH programme
    assert proposal.cop.country_programme == programmes[0]
    return proposal


def admin(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def test_review_criteria_of_another_programme_are_out_of_reach(programmes):
    fund_a = FundFactory(country_programme=programmes[0])
    fund_b = FundFactory(country_programme=programmes[1])
    criterion_a = ReviewCriterion.objects.create(fund=fund_a, name="Relevance")
    client = person(User.Role.FACILITATOR, programmes[1])

    listed = client.get(admin("proposals_reviewcriterion_changelist")).context["cl"].queryset
    assert criterion_a not in listed
    assert client.get(admin("proposals_reviewcriterion_change", criterion_a.pk))["Location"] == admin("index")
    client.post(admin("proposals_reviewcriterion_delete", criterion_a.pk), {"post": "yes"})
    assert ReviewCriterion.objects.filter(pk=criterion_a.pk).exists()
    # nor can a criterion be added to another programme's fund
    form = client.get(admin("proposals_reviewcriterion_add")).context["adminform"].form
    assert list(form.fields["fund"].queryset) == [fund_b]
    client.post(
        admin("proposals_reviewcriterion_add"), {"fund": fund_a.pk, "name": "Sneaked", "max_score": 5}
    )
    assert not ReviewCriterion.objects.filter(name="Sneaked").exists()


def test_expected_participants_of_another_programme_are_out_of_reach(programmes, proposal_a):
    row = ExpectedParticipation.objects.create(
        activity=proposal_a.activities.get(), rightsholder_group=RightsholderGroup.objects.first(), number=12
    )
    client = person(User.Role.FACILITATOR, programmes[1])
    listed = client.get(admin("proposals_expectedparticipation_changelist")).context["cl"].queryset
    assert row not in listed
    assert client.get(admin("proposals_expectedparticipation_change", row.pk))["Location"] == admin("index")
    own = person(User.Role.FACILITATOR, programmes[0])
    assert row in own.get(admin("proposals_expectedparticipation_changelist")).context["cl"].queryset


def test_a_facilitator_sees_only_their_own_programme(programmes):
    kh, la = programmes
    client = person(User.Role.FACILITATOR, la)
    listed = client.get(admin("ccop_countryprogramme_changelist")).context["cl"].queryset
    assert list(listed) == [la]
    assert client.get(admin("ccop_countryprogramme_change", kh.pk))["Location"] == admin("index")


def test_list_filters_name_only_the_programmes_own_records(programmes, proposal_a):
    """A filter by CoP or fund offered every CoP and fund of every programme."""
    ready_proposal(
        cop=CoPFactory(country_programme=programmes[1]), fund=FundFactory(country_programme=programmes[1])
    )
    client = person(User.Role.FACILITATOR, programmes[1])
    page = client.get(admin("proposals_proposal_changelist"))
    assert page.status_code == 200
    assert proposal_a.cop.name not in page.content.decode()
    assert proposal_a.fund.name not in page.content.decode()
    own = person(User.Role.FACILITATOR, programmes[0]).get(admin("proposals_proposal_changelist"))
    assert proposal_a.cop.name in own.content.decode()
