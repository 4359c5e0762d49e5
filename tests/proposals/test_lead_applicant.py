"""Removing an applicant keeps a proposal editable and led: the last applicant cannot be removed,
and when the lead leaves, the lead passes to the remaining applicant added first. Every way in
obeys the same service: the portal (the lead only after its confirmation page), the proposal's
admin inline, the applicant admin's delete page (its bulk delete is gone)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ccop.errors import RuleViolation
from proposals import services
from proposals.models import Applicant, Proposal
from tests.admin_helpers import admin_url, form_data, messages_of, page_text, superuser
from tests.factories import FacilitatorFactory, grantee_with_staff, ready_proposal

pytestmark = pytest.mark.django_db


def applicants(proposal: Proposal) -> list[tuple[str, bool]]:
    return [(a.organisation.acronym, a.is_lead) for a in proposal.applicants.order_by("added_at", "pk")]


def lead_of(proposal: Proposal) -> Applicant:
    return proposal.applicants.get(is_lead=True)


def three_applicants():
    proposal, staff = ready_proposal(applicants=3)
    return proposal, staff, [s.organisation for s in staff]


# --------------------------------------------------------------------------- the service


def test_removing_the_lead_passes_the_lead_to_the_applicant_added_first():
    proposal, staff, (lead, second, third) = three_applicants()
    successor = services.applicant_remove(proposal=proposal, organisation=lead, acting_user=staff[1])
    assert successor.organisation == second
    assert applicants(proposal) == [(second.acronym, True), (third.acronym, False)]
    history = Applicant.history.filter(organisation=second, is_lead=True).latest("history_date")
    assert (
        history.history_user == staff[1]
        and history.history_change_reason == f"lead passed on: {lead.acronym} left"
    )


def test_removing_a_co_applicant_keeps_the_lead():
    proposal, staff, (lead, second, _third) = three_applicants()
    assert (
        services.applicant_remove(proposal=proposal, organisation=second, acting_user=staff[0]).organisation
        == lead
    )
    assert lead_of(proposal).organisation == lead


def test_the_last_applicant_cannot_be_removed():
    proposal, staff = ready_proposal(applicants=1)
    revision = proposal.revision
    with pytest.raises(RuleViolation) as caught:
        services.applicant_remove(proposal=proposal, organisation=staff[0].organisation, acting_user=staff[0])
    assert caught.value.code == "last_applicant"
    proposal.refresh_from_db()
    assert applicants(proposal) == [(staff[0].organisation.acronym, True)] and proposal.revision == revision


def test_the_first_applicant_of_a_proposal_without_one_leads():
    proposal, staff = ready_proposal(applicants=1)
    newcomer = grantee_with_staff(proposal.cop)
    proposal.applicants.all().delete()  # as a proposal made in the admin starts
    services.applicant_add(
        proposal=proposal,
        organisation=newcomer.organisation,
        acting_user=FacilitatorFactory(country_programme=proposal.cop.country_programme),
    )
    assert applicants(proposal) == [(newcomer.organisation.acronym, True)]


# --------------------------------------------------------------------------- the portal


def remove_url(proposal) -> str:
    return reverse("proposals:applicant-remove", args=[proposal.pk])


def confirm_url(proposal, organisation) -> str:
    return reverse("proposals:applicant-remove-confirm", args=[proposal.pk, organisation.pk])


def test_one_click_on_the_lead_leads_to_its_confirmation_page_and_changes_nothing(client):
    proposal, staff, (lead, second, third) = three_applicants()
    client.force_login(staff[1])
    detail = client.get(reverse("proposals:proposal-detail", args=[proposal.pk])).content.decode()
    assert confirm_url(proposal, lead) in detail  # the lead's button is a link to the page
    response = client.post(remove_url(proposal), {"organisation": lead.pk})
    assert response.status_code == 302 and response["Location"] == confirm_url(proposal, lead)
    assert applicants(proposal) == [(lead.acronym, True), (second.acronym, False), (third.acronym, False)]


def test_the_confirmation_page_says_who_leads_next_and_removes_on_confirm(client):
    proposal, staff, (lead, second, third) = three_applicants()
    client.force_login(staff[1])
    page = client.get(confirm_url(proposal, lead))
    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", "", page_text(page)).split())
    assert f"After the removal, {second.acronym} leads it." in text
    assert f"The staff of {lead.acronym} will no longer be able to edit" in text
    assert 'name="confirm" value="yes"' in page.content.decode()
    response = client.post(confirm_url(proposal, lead), {"confirm": "yes"}, follow=True)
    assert f"{second.acronym} now leads the proposal." in messages_of(response)
    assert applicants(proposal) == [(second.acronym, True), (third.acronym, False)]


def test_the_last_applicant_is_kept_by_the_portal(client):
    proposal, staff = ready_proposal(applicants=1)
    organisation = staff[0].organisation
    client.force_login(staff[0])
    page = client.get(confirm_url(proposal, organisation))
    assert "Add another applicant before removing this one." in page_text(page)
    assert 'name="confirm"' not in page.content.decode()
    response = client.post(confirm_url(proposal, organisation), {"confirm": "yes"}, follow=True)
    assert any("Add another applicant before removing this one." in m for m in messages_of(response))
    assert applicants(proposal) == [(organisation.acronym, True)]


def test_a_co_applicant_is_still_removed_in_one_click(client):
    proposal, staff, (lead, second, third) = three_applicants()
    client.force_login(staff[0])
    client.post(remove_url(proposal), {"organisation": third.pk})
    assert applicants(proposal) == [(lead.acronym, True), (second.acronym, False)]


@pytest.mark.parametrize("count", [3, 12])
def test_the_confirmation_page_takes_the_same_queries_for_3_and_12_applicants(
    client, django_assert_max_num_queries, count
):
    proposal, staff = ready_proposal(applicants=count)
    client.force_login(staff[1])
    with django_assert_max_num_queries(14):
        assert client.get(confirm_url(proposal, staff[0].organisation)).status_code == 200


# --------------------------------------------------------------------------- the admin


@pytest.fixture
def admin(client):
    user = superuser()
    client.force_login(user)
    return user


def inline_rows(data: dict) -> dict[int, str]:
    """Applicant inline row index -> organisation id, from a change form's data."""
    return {
        int(m.group(1)): value
        for key, value in data.items()
        if (m := re.fullmatch(r"applicants-(\d+)-organisation", key))
    }


def test_the_admin_inline_cannot_delete_the_last_applicant(client, admin):
    proposal, staff = ready_proposal(applicants=1)
    url = admin_url(Proposal, "change", proposal.pk)
    data = form_data(client.get(url))
    data["applicants-0-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Add another applicant before removing this one." in page_text(response)
    assert applicants(proposal) == [(staff[0].organisation.acronym, True)]


def test_the_admin_inline_passes_the_lead_when_it_deletes_it(client, admin):
    proposal, staff, (lead, second, third) = three_applicants()
    url = admin_url(Proposal, "change", proposal.pk)
    data = form_data(client.get(url))
    row = next(i for i, org in inline_rows(data).items() if org == str(lead.pk))
    data[f"applicants-{row}-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, page_text(response)[-2000:]
    assert applicants(proposal) == [(second.acronym, True), (third.acronym, False)]


def test_the_admin_inline_cannot_swap_an_applicants_organisation(client, admin):
    proposal, staff, (lead, second, third) = three_applicants()
    other = grantee_with_staff(proposal.cop).organisation
    url = admin_url(Proposal, "change", proposal.pk)
    data = form_data(client.get(url))
    row = next(i for i, org in inline_rows(data).items() if org == str(lead.pk))
    data[f"applicants-{row}-organisation"] = str(other.pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "remove it and add the other organisation" in page_text(response)
    assert lead_of(proposal).organisation == lead


def test_the_admin_inline_adds_through_the_service(client, admin):
    proposal, staff = ready_proposal(applicants=1)
    outsider = grantee_with_staff(ready_proposal()[0].cop).organisation  # not a member of this CoP
    url = admin_url(Proposal, "change", proposal.pk)
    data = form_data(client.get(url))
    data.update({"applicants-TOTAL_FORMS": "2", "applicants-1-organisation": str(outsider.pk)})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "is not an active member of" in page_text(response)
    assert proposal.applicants.count() == 1


def test_the_applicant_admin_keeps_the_last_applicant(client, admin):
    proposal, staff = ready_proposal(applicants=1)
    applicant = proposal.applicants.get()
    response = client.post(admin_url(Applicant, "delete", applicant.pk), {"post": "yes"}, follow=True)
    assert any("Add another applicant before removing this one." in m for m in messages_of(response))
    assert Applicant.objects.filter(pk=applicant.pk).exists()


def test_the_applicant_admin_passes_the_lead_when_it_deletes_it(client, admin):
    proposal, staff, (lead, second, third) = three_applicants()
    response = client.post(admin_url(Applicant, "delete", lead_of(proposal).pk), {"post": "yes"})
    assert response.status_code == 302
    assert applicants(proposal) == [(second.acronym, True), (third.acronym, False)]


def test_the_applicant_admin_offers_no_bulk_delete_and_no_lead_field(client, admin):
    proposal, _staff = ready_proposal()
    changelist = client.get(admin_url(Applicant))
    assert "delete_selected" not in changelist.content.decode()
    change = client.get(admin_url(Applicant, "change", lead_of(proposal).pk))
    assert "is_lead" not in change.context["adminform"].form.fields
    assert "organisation" not in change.context["adminform"].form.fields
