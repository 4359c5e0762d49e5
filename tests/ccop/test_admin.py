"""The admin site as a whole (every registered model's pages answer, none with a 500) and the
rules through the core admin: memberships and organisations behind the two-grantee rule,
affiliations behind the conflict of interest, the database's own constraints as form errors."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import NoReverseMatch
from django.utils import timezone

from ccop.models import CoP, CoPPhase, Membership, Organisation, RightsholderGroup, User
from proposals import services
from proposals.models import ExchangeRate, Proposal, Review
from tests.admin_helpers import (
    admin_url,
    form_data,
    messages_of,
    page_text,
    run_action,
    superuser,
    with_admin_permissions,
)
from tests.factories import CommitteeMemberFactory, FacilitatorFactory, ready_proposal, under_review

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def admin_user(client):
    user = superuser()
    client.force_login(user)
    return user


def populate() -> None:
    """At least one row behind every registered admin: an approved proposal with its grant,
    decision, endorsements and steps, a draft with a rate, participants and a phase, a review,
    a declared conflict, a facilitator."""
    proposal, _staff, member = under_review()
    services.review_record(proposal=proposal, reviewer=member, recommendation="approve", score=8)
    services.proposal_approve(proposal=proposal, acting_user=member, reasons="A strong joint proposal.")
    draft, staff = ready_proposal(cop=proposal.cop, fund=proposal.fund)
    ExchangeRate.objects.create(proposal=draft, currency="USD", rate=Decimal("0.92"))
    services.activity_add(
        proposal=draft,
        acting_user=staff[0],
        title="Screening",
        agenda="18:00 Film",
        participants={RightsholderGroup.objects.get(code="pwd"): 25},
    )
    submitted, staff = ready_proposal(cop=proposal.cop, fund=proposal.fund)
    services.proposal_submit(proposal=submitted, acting_user=staff[0])
    services.conflict_declare(proposal=submitted, member=member, reason="My sister works there.")
    CoPPhase.objects.create(cop=proposal.cop, number=1, title="Phase I")
    proposal.cop.country_programme.facilitators.add(Organisation.objects.first())
    FacilitatorFactory(country_programme=proposal.cop.country_programme)


def _registry():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_admin_page_answers_for_a_superuser(client, admin_user):
    populate()
    request = RequestFactory().get("/")
    request.user = admin_user
    checked = []

    for model, model_admin in _registry():
        label = model._meta.label
        response = client.get(admin_url(model))
        assert response.status_code == 200, f"{label} changelist"
        if model_admin.search_fields:
            assert client.get(admin_url(model), {"q": "a"}).status_code == 200, f"{label} search"

        expected = 200 if model_admin.has_add_permission(request) else 403
        assert client.get(admin_url(model, "add")).status_code == expected, f"{label} add"

        obj = model_admin.get_queryset(request).first()
        if obj is None:
            continue
        assert client.get(admin_url(model, "change", obj.pk)).status_code == 200, f"{label} change"
        assert client.get(admin_url(model, "history", obj.pk)).status_code == 200, f"{label} history"
        expected = 200 if model_admin.has_delete_permission(request, obj) else 403
        assert client.get(admin_url(model, "delete", obj.pk)).status_code == expected, f"{label} delete"
        checked.append(label)

    assert {
        "ccop.User",
        "ccop.CoP",
        "grants.Grant",
        "grants.Fund",
        "proposals.Proposal",
        "proposals.Decision",
        "proposals.ExpectedParticipation",
        "proposals.ConflictDeclaration",
        "proposals.Review",
    } <= set(checked)


def test_every_admin_page_answers_with_an_empty_database(client, admin_user):
    for model, _model_admin in _registry():
        assert client.get(admin_url(model)).status_code == 200, model._meta.label
        assert client.get(admin_url(model, "add")).status_code in {200, 403}, model._meta.label


def test_rightsholder_groups_are_fixed(client, admin_user):
    group = RightsholderGroup.objects.get(code="pwd")
    assert client.get(admin_url(RightsholderGroup, "add")).status_code == 403
    assert client.post(admin_url(RightsholderGroup, "delete", group.pk), {"post": "yes"}).status_code == 403
    assert RightsholderGroup.objects.count() == 5


def test_unknown_admin_url_is_not_a_server_error(client, admin_user):
    with pytest.raises(NoReverseMatch):
        admin_url(Proposal, "nonsense")
    assert client.get(admin_url(Proposal, "change", 987654)).status_code in {302, 404}


# --------------------------------------------------------------------------- rule 1 through the core admin


def _submit_is_refused(client, proposal: Proposal, expected: str) -> None:
    response = run_action(client, Proposal, "submit", [proposal])
    assert response.status_code == 200
    text = " ".join(messages_of(response))
    assert expected in text
    assert "must endorse the proposal (now 1)" in text
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DRAFT


def test_membership_ended_in_the_membership_admin_no_longer_counts(client, admin_user):
    proposal, staff = ready_proposal()
    leaving = staff[1].organisation
    membership = Membership.objects.get(cop=proposal.cop, organisation=leaving)
    url = admin_url(Membership, "change", membership.pk)
    data = form_data(client.get(url))
    data["left_on"] = YESTERDAY.isoformat()

    assert client.post(url, data).status_code == 302
    membership.refresh_from_db()
    assert membership.left_on == YESTERDAY

    _submit_is_refused(client, proposal, f"{leaving.acronym} is no longer an active member of the CoP.")


def test_membership_ended_in_the_cop_admin_inline_no_longer_counts(client, admin_user):
    proposal, staff = ready_proposal()
    leaving = staff[1].organisation
    url = admin_url(CoP, "change", proposal.cop.pk)
    data = form_data(client.get(url))
    row = next(
        key.removesuffix("-organisation")
        for key, value in data.items()
        if key.startswith("memberships-") and key.endswith("-organisation") and value == str(leaving.pk)
    )
    data[f"{row}-left_on"] = YESTERDAY.isoformat()

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert Membership.objects.get(cop=proposal.cop, organisation=leaving).left_on == YESTERDAY
    _submit_is_refused(client, proposal, f"{leaving.acronym} is no longer an active member of the CoP.")


def test_organisation_made_a_non_grantee_in_the_admin_no_longer_counts(client, admin_user):
    proposal, staff = ready_proposal()
    organisation = staff[1].organisation
    url = admin_url(Organisation, "change", organisation.pk)
    data = form_data(client.get(url))
    data["kind"] = Organisation.Kind.PARTNER

    assert client.post(url, data).status_code == 302

    _submit_is_refused(
        client,
        proposal,
        f"{organisation.acronym} is not a grantee partner, so its endorsement does not count.",
    )


# --------------------------------------------------------------------------- rule 5 through the user admin


def test_affiliation_added_in_the_user_admin_makes_a_conflict(client, admin_user):
    proposal, staff = ready_proposal()
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    member = with_admin_permissions(CommitteeMemberFactory(country_programme=proposal.cop.country_programme))
    url = admin_url(User, "change", member.pk)
    data = form_data(client.get(url))
    data["affiliations"] = [str(staff[1].organisation.pk)]
    data["change_reason"] = "Joined the board of an applicant."

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert set(member.affiliations.all()) == {staff[1].organisation}

    client.force_login(member)
    response = run_action(client, Proposal, "start_review", [proposal])
    assert "affiliated with an applicant organisation" in " ".join(messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SUBMITTED

    response = client.post(
        admin_url(Review, "add"), {"proposal": proposal.pk, "recommendation": "approve", "score": "7"}
    )
    assert response.status_code == 200
    assert "affiliated with an applicant organisation" in page_text(response)
    assert not Review.objects.exists()


# --------------------------------------------------------------------------- one-row rules as form errors


def test_membership_leaving_before_joining_is_a_form_error(client, admin_user):
    proposal, staff = ready_proposal()
    membership = Membership.objects.get(cop=proposal.cop, organisation=staff[0].organisation)
    url = admin_url(Membership, "change", membership.pk)
    data = form_data(client.get(url))
    data["left_on"] = "2022-12-31"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "An organisation cannot leave before it joined." in page_text(response)
    membership.refresh_from_db()
    assert membership.left_on is None


def test_second_membership_of_the_same_organisation_is_a_form_error(client, admin_user):
    proposal, staff = ready_proposal()
    response = client.post(
        admin_url(Membership, "add"),
        {
            "cop": proposal.cop.pk,
            "organisation": staff[0].organisation.pk,
            "role": Membership.Role.MEMBER,
            "joined_on": "2024-01-01",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Membership.objects.filter(cop=proposal.cop, organisation=staff[0].organisation).count() == 1


def test_phase_ending_before_it_starts_is_a_form_error(client, admin_user):
    proposal, _staff = ready_proposal()
    response = client.post(
        admin_url(CoPPhase, "add"),
        {
            "cop": proposal.cop.pk,
            "number": "2",
            "title": "Phase II",
            "starts_on": "2024-06-01",
            "ends_on": "2024-01-01",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not CoPPhase.objects.exists()
