"""The proposal pages of the portal: who may see and do what (anonymous → login, another
organisation → 404, an applicant → the page), and the journey from a first draft to a
submission, a revision request and the versions' differences."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ccop.models import RightsholderGroup
from proposals import services
from proposals.models import BudgetLine, Endorsement, ExchangeRate, PlannedActivity, Proposal, ProposalVersion
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    FundFactory,
    StaffFactory,
    grantee_with_staff,
    ready_proposal,
    under_review,
)

pytestmark = pytest.mark.django_db

S = Proposal.Status


# --------------------------------------------------------------------------- helpers


def url(name: str, proposal: Proposal) -> str:
    return reverse(f"proposals:{name}", args=[proposal.pk])


def page_data(response) -> dict:
    """The edit page's form as a browser would post it: every field with its current value."""
    html = response.content.decode()
    form = html[html.index('id="proposal-edit-form"') :]
    form = form[: form.index("</form>")]
    form = re.sub(r"<template.*?</template>", "", form, flags=re.S)
    data: dict[str, list[str]] = {}

    def put(name, value):
        data.setdefault(name, []).append(value)

    for tag in re.finditer(r"<input\b[^>]*>", form):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(0)))
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind == "submit":
            continue
        if kind in ("checkbox", "radio"):
            if " checked" in tag.group(0):
                put(name, attrs.get("value", "on"))
            continue
        put(name, _unescape(attrs.get("value", "")))
    for tag in re.finditer(r"<textarea\b([^>]*)>(.*?)</textarea>", form, flags=re.S):
        name = re.search(r'name="([^"]*)"', tag.group(1)).group(1)
        put(name, _unescape(tag.group(2).lstrip("\n")))
    for tag in re.finditer(r"<select\b([^>]*)>(.*?)</select>", form, flags=re.S):
        name = re.search(r'name="([^"]*)"', tag.group(1)).group(1)
        selected = re.findall(r'<option value="([^"]*)"[^>]*selected', tag.group(2))
        put(name, _unescape(selected[0]) if selected else "")
    return data


def _unescape(value: str) -> str:
    return (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
    )


def flat(data: dict) -> dict:
    """Lists of one value as plain values (the test client posts lists as repeated fields)."""
    return {k: v if len(v) != 1 else v[0] for k, v in data.items()}


def add_lines(proposal: Proposal, person, n: int) -> None:
    activity = proposal.activities.first()
    BudgetLine.objects.bulk_create(
        BudgetLine(
            proposal=proposal,
            activity=activity if i % 2 else None,
            category=BudgetLine.Category.MEALS,
            description=f"Meals day {i}",
            unit="person-day",
            quantity=Decimal("10"),
            unit_cost=Decimal("3.50"),
            currency="USD" if i % 3 == 0 else "EUR",
            order=100 + i,
        )
        for i in range(n)
    )


@pytest.fixture
def proposal_and_staff():
    proposal, staff = ready_proposal()
    return proposal, staff


@pytest.fixture
def outsider(proposal_and_staff):
    """Staff of a grantee organisation in another CoP of the same programme."""
    proposal, _staff = proposal_and_staff
    other_cop = CoPFactory(country_programme=proposal.cop.country_programme)
    return grantee_with_staff(other_cop)


GET_PAGES = ["proposal-detail", "proposal-edit", "proposal-versions", "proposal-withdraw"]
POST_ACTIONS = [
    "proposal-endorse",
    "proposal-submit",
    "proposal-withdraw",
    "applicant-add",
    "applicant-remove",
    "proposal-budget-totals",
    "proposal-edit",
]


# --------------------------------------------------------------------------- who sees what


@pytest.mark.parametrize("name", GET_PAGES)
def test_anonymous_is_sent_to_log_in(client, proposal_and_staff, name):
    proposal, _staff = proposal_and_staff
    response = client.get(url(name, proposal))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", POST_ACTIONS)
def test_anonymous_post_is_sent_to_log_in_and_changes_nothing(client, proposal_and_staff, name):
    proposal, _staff = proposal_and_staff
    revision = proposal.revision
    response = client.post(url(name, proposal), {"organisation": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    proposal.refresh_from_db()
    assert (proposal.status, proposal.revision) == (S.DRAFT, revision)


def test_expired_session_on_an_htmx_request_sends_the_page_to_log_in_and_back(client, proposal_and_staff):
    proposal, _staff = proposal_and_staff
    edit = url("proposal-edit", proposal)
    response = client.post(
        url("proposal-budget-totals", proposal),
        {},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{edit}"},
    )
    assert response["HX-Redirect"] == f"{reverse('login')}?next={edit.replace('/', '%2F')}"


@pytest.mark.parametrize("name", GET_PAGES)
def test_outside_organisation_gets_404(client, proposal_and_staff, outsider, name):
    proposal, _staff = proposal_and_staff
    client.force_login(outsider)
    response = client.get(url(name, proposal))
    assert response.status_code == 404
    assert proposal.title not in response.content.decode()


@pytest.mark.parametrize("name", POST_ACTIONS)
def test_outside_organisation_cannot_touch_it(client, proposal_and_staff, outsider, name):
    proposal, _staff = proposal_and_staff
    client.force_login(outsider)
    response = client.post(url(name, proposal), {"organisation": str(outsider.organisation_id)})
    assert response.status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == S.DRAFT
    assert not proposal.applicants.filter(organisation=outsider.organisation).exists()


@pytest.mark.parametrize("name", GET_PAGES)
def test_applicant_staff_see_the_pages(client, proposal_and_staff, name):
    proposal, staff = proposal_and_staff
    client.force_login(staff[1])
    response = client.get(url(name, proposal))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert '<main id="main"' in html


def test_a_facilitator_of_the_programme_sees_and_edits(client, proposal_and_staff):
    proposal, _staff = proposal_and_staff
    client.force_login(FacilitatorFactory(country_programme=proposal.cop.country_programme))
    assert client.get(url("proposal-detail", proposal)).status_code == 200
    assert client.get(url("proposal-edit", proposal)).status_code == 200


def test_a_facilitator_of_another_programme_gets_404(client, proposal_and_staff):
    proposal, _staff = proposal_and_staff
    laos = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")
    client.force_login(FacilitatorFactory(country_programme=laos))
    assert client.get(url("proposal-detail", proposal)).status_code == 404


def test_list_shows_own_proposals_only(client, proposal_and_staff, outsider):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    assert proposal.title in client.get(reverse("proposals:proposal-list")).content.decode()
    client.force_login(outsider)
    assert proposal.title not in client.get(reverse("proposals:proposal-list")).content.decode()


# --------------------------------------------------------------------------- create


def test_create_a_proposal_for_an_own_cop_and_an_open_fund(client):
    cop = CoPFactory()
    fund = FundFactory(country_programme=cop.country_programme)
    person = grantee_with_staff(cop)
    client.force_login(person)
    page = client.get(reverse("proposals:proposal-create"))
    assert page.status_code == 200
    assert cop.name in page.content.decode()
    response = client.post(
        reverse("proposals:proposal-create"), {"cop": cop.pk, "fund": fund.pk, "title": "Theatre for change"}
    )
    proposal = Proposal.objects.get(title="Theatre for change")
    assert response.status_code == 302
    assert response["Location"] == url("proposal-edit", proposal)
    assert proposal.status == S.DRAFT
    assert list(proposal.applicants.values_list("organisation", flat=True)) == [person.organisation_id]


def test_create_lists_only_own_cops_and_refuses_another(client):
    cop = CoPFactory()
    other = CoPFactory(country_programme=cop.country_programme)
    fund = FundFactory(country_programme=cop.country_programme)
    person = grantee_with_staff(cop)
    client.force_login(person)
    assert other.name not in client.get(reverse("proposals:proposal-create")).content.decode()
    response = client.post(
        reverse("proposals:proposal-create"), {"cop": other.pk, "fund": fund.pk, "title": "X"}
    )
    assert response.status_code == 200
    assert not Proposal.objects.exists()


def test_create_refuses_a_closed_fund(client):
    cop = CoPFactory()
    FundFactory(country_programme=cop.country_programme)
    closed = FundFactory(
        country_programme=cop.country_programme,
        opens_on=datetime.date(2020, 1, 1),
        closes_on=datetime.date(2020, 12, 31),
    )
    client.force_login(grantee_with_staff(cop))
    assert closed.name not in client.get(reverse("proposals:proposal-create")).content.decode()
    response = client.post(
        reverse("proposals:proposal-create"), {"cop": cop.pk, "fund": closed.pk, "title": "X"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_fund_helptext id_fund_error"' in html
    assert not Proposal.objects.exists()


def test_create_explains_when_there_is_no_cop(client):
    client.force_login(StaffFactory())
    response = client.get(reverse("proposals:proposal-create"))
    assert "ask your facilitator" in response.content.decode()


# --------------------------------------------------------------------------- edit


def test_edit_the_narrative(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[1])
    data = page_data(client.get(url("proposal-edit", proposal)))
    data["objectives"] = ["Raise awareness; change two district plans."]
    data["target_groups"] = [str(RightsholderGroup.objects.get(code="women").pk)]
    response = client.post(url("proposal-edit", proposal), flat(data))
    assert response.status_code == 302
    assert response["Location"].startswith(url("proposal-edit", proposal) + "?saved=")
    proposal.refresh_from_db()
    assert Proposal.objects.get(pk=proposal.pk).objectives == "Raise awareness; change two district plans."
    assert list(proposal.target_groups.values_list("code", flat=True)) == ["women"]
    page = client.get(response["Location"])
    assert f'data-saved-revision="{proposal.revision}"' in page.content.decode()


def test_saving_an_unchanged_page_keeps_rows_and_endorsements(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    lines_before = list(BudgetLine.objects.filter(proposal=proposal).values("pk", "unit_cost", "activity"))
    data = page_data(client.get(url("proposal-edit", proposal)))
    assert client.post(url("proposal-edit", proposal), flat(data)).status_code == 302
    assert (
        list(BudgetLine.objects.filter(proposal=proposal).values("pk", "unit_cost", "activity"))
        == lines_before
    )
    assert len(services.valid_endorsement_organisation_ids(proposal)) == 2


def test_invalid_input_is_shown_with_errors_linked_to_fields(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    data = page_data(client.get(url("proposal-edit", proposal)))
    data["lines-0-quantity"] = ["-2"]
    data["title"] = [""]
    response = client.post(url("proposal-edit", proposal), flat(data))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_lines-0-quantity"' in html
    assert 'href="#id_title"' in html
    assert 'aria-describedby="id_lines-0-quantity_error"' in html
    assert 'id="id_lines-0-quantity_error"' in html
    assert 'data-input-echoed="true"' in html
    assert BudgetLine.objects.get(proposal=proposal).quantity == Decimal("1")


def test_a_refusal_by_the_service_is_shown_on_the_row(client, proposal_and_staff):
    """The activity's dates are checked by the model (through the service), not by the form."""
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    data = page_data(client.get(url("proposal-edit", proposal)))
    data["activities-0-ends_on"] = ["2024-02-01"]  # before it starts
    data["objectives"] = ["Changed, but must not be saved"]
    response = client.post(url("proposal-edit", proposal), flat(data))
    html = response.content.decode()
    assert response.status_code == 200
    assert "An activity cannot end before it starts." in html
    assert 'href="#id_activities-0-ends_on"' in html
    proposal.refresh_from_db()
    assert proposal.objectives == "Raise awareness through community theatre."


def test_add_a_row_without_javascript_then_save_and_remove_one(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    data = page_data(client.get(url("proposal-edit", proposal)))
    assert data["lines-TOTAL_FORMS"] == ["1"]
    data["objectives"] = ["Typed before adding a row"]

    # "Add another budget line" is a plain submit button: the page comes back with one more row.
    response = client.post(url("proposal-edit", proposal), {**flat(data), "add": "lines"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="lines-1-description"' in html
    assert "Typed before adding a row" in html  # what was typed is kept, not saved
    assert Proposal.objects.get(pk=proposal.pk).objectives != "Typed before adding a row"
    data = page_data(response)
    assert data["lines-TOTAL_FORMS"] == ["2"]

    old_line = BudgetLine.objects.get(proposal=proposal)
    data.update(
        {
            "lines-0-DELETE": ["on"],
            "lines-1-category": ["travel"],
            "lines-1-description": ["Bus to Battambang"],
            "lines-1-unit": ["return ticket"],
            "lines-1-quantity": ["12"],
            "lines-1-unit_cost": ["40000"],
            "lines-1-currency": ["KHR"],
            "lines-1-activity": ["1 · Big performance day"],  # as the page's list offers it
            "rate_KHR": ["0.00023"],
        }
    )
    response = client.post(url("proposal-edit", proposal), flat(data))
    assert response.status_code == 302, response.content.decode()[:3000]
    line = BudgetLine.objects.get(proposal=proposal)
    assert line.pk != old_line.pk
    assert (line.description, line.quantity, line.unit_cost, line.currency) == (
        "Bus to Battambang",
        Decimal("12"),
        Decimal("40000"),
        "KHR",
    )
    assert line.activity == proposal.activities.get()
    assert ExchangeRate.objects.get(proposal=proposal).rate == Decimal("0.00023")
    assert Proposal.objects.get(pk=proposal.pk).objectives == "Typed before adding a row"


def test_add_and_remove_rows_with_htmx(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    data = page_data(client.get(url("proposal-edit", proposal)))
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://testserver" + url("proposal-edit", proposal)}

    # The add button's hx-post answers with only the new row and the new row count (out of band).
    response = client.post(url("proposal-edit", proposal), {**flat(data), "add": "activities"}, headers=htmx)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'name="activities-1-title"' in html
    assert 'id="id_activities-TOTAL_FORMS" value="2" hx-swap-oob="true"' in html
    assert "Activity 2 added." in html

    data["activities-TOTAL_FORMS"] = ["2"]
    data.update(
        {
            "activities-1-title": ["Street theatre"],
            "activities-1-is_primary": ["on"],
            "activities-1-agenda": ["10:00 Play\n11:00 Talk"],
            "activities-1-participants_pwd": ["25"],
            "activities-1-participants_age": ["10"],
        }
    )
    response = client.post(url("proposal-edit", proposal), flat(data), headers=htmx)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(url("proposal-edit", proposal) + "?saved=")
    street = PlannedActivity.objects.get(proposal=proposal, title="Street theatre")
    assert {p.rightsholder_group.code: p.number for p in street.expected_participants.all()} == {
        "pwd": 25,
        "age": 10,
    }

    # Remove the first activity: its line stays, unlinked (the page says so by not listing it).
    data = page_data(client.get(url("proposal-edit", proposal)))
    data["activities-0-DELETE"] = ["on"]
    data["lines-0-activity"] = [""]
    response = client.post(url("proposal-edit", proposal), flat(data), headers=htmx)
    assert response.status_code == 200 and "HX-Redirect" in response
    assert list(proposal.activities.values_list("title", flat=True)) == ["Street theatre"]
    assert BudgetLine.objects.get(proposal=proposal).activity is None


def test_a_line_cannot_stay_linked_to_an_activity_being_removed(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    data = page_data(client.get(url("proposal-edit", proposal)))
    data["activities-0-DELETE"] = ["on"]
    response = client.post(url("proposal-edit", proposal), flat(data))
    assert response.status_code == 200
    assert "This activity is being removed" in response.content.decode()
    assert proposal.activities.count() == 1


def test_budget_totals_are_computed_on_the_server_from_what_is_typed(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    data = page_data(client.get(url("proposal-edit", proposal)))
    data.update(
        {
            "lines-TOTAL_FORMS": ["3"],
            "lines-1-category": ["meals"],
            "lines-1-description": ["Lunch"],
            "lines-1-unit": ["meal"],
            "lines-1-quantity": ["3"],
            "lines-1-unit_cost": ["0.10"],
            "lines-1-currency": ["EUR"],
            "lines-2-category": ["travel"],
            "lines-2-description": ["Fuel"],
            "lines-2-unit": ["litre"],
            "lines-2-quantity": ["100"],
            "lines-2-unit_cost": ["1.25"],
            "lines-2-currency": ["USD"],
            "rate_USD": ["0.9"],
        }
    )
    response = client.post(
        url("proposal-budget-totals", proposal), flat(data), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    # 1000.00 + 0.30 EUR, plus USD 125.00 at 0.9 = EUR 112.50: EUR 1,112.80 exactly (no float drift).
    assert "EUR 1,112.80" in html
    assert "USD 125.00" in html
    assert 'hx-swap-oob="innerHTML"' in html
    assert BudgetLine.objects.filter(proposal=proposal).count() == 1  # nothing saved

    data["lines-2-quantity"] = ["lots"]
    html = client.post(url("proposal-budget-totals", proposal), flat(data)).content.decode()
    assert "One line is not counted yet" in html
    assert "EUR 1,000.30" in html


def test_stale_save_is_refused_and_the_input_kept(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    first, second = staff
    client.force_login(second)
    mine = page_data(client.get(url("proposal-edit", proposal)))

    # Meanwhile the other organisation saves.
    services.proposal_update(
        proposal=proposal,
        acting_user=first,
        data={"provinces": "Pursat"},
        expected_revision=proposal.revision,
    )

    mine["objectives"] = ["My objectives, typed for an hour"]
    mine["lines-0-description"] = ["My better description"]
    response = client.post(url("proposal-edit", proposal), flat(mine))
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this proposal after you opened it" in html
    assert "My objectives, typed for an hour" in html
    assert 'value="My better description"' in html
    assert 'data-input-echoed="true"' in html
    proposal.refresh_from_db()
    assert proposal.provinces == "Pursat"
    assert proposal.objectives == "Raise awareness through community theatre."

    # Saving over the newer version is a deliberate second step.
    latest = re.search(r'name="overwrite" value="(\d+)"', html).group(1)
    assert int(latest) == proposal.revision
    response = client.post(url("proposal-edit", proposal), {**flat(mine), "overwrite": latest})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.objectives == "My objectives, typed for an hour"


def test_a_frozen_proposal_is_not_editable(client):
    proposal, staff, _member = under_review()
    client.force_login(staff[0])
    response = client.get(url("proposal-edit", proposal), follow=True)
    assert response.redirect_chain[-1][0] == url("proposal-detail", proposal)
    assert "can no longer be changed" in response.content.decode()
    response = client.post(url("proposal-edit", proposal), {"title": "Hijack"})
    assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).title != "Hijack"


def test_a_committee_member_can_read_but_not_edit(client, proposal_and_staff):
    proposal, _staff = proposal_and_staff
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    client.force_login(member)
    detail = client.get(url("proposal-detail", proposal)).content.decode()
    assert url("proposal-edit", proposal) not in detail
    response = client.get(url("proposal-edit", proposal))
    assert response.status_code == 302


# --------------------------------------------------------------------------- endorse, submit


def test_submit_refused_for_a_one_organisation_proposal_lists_the_missing_pieces(client):
    proposal, staff = ready_proposal(applicants=1)
    client.force_login(staff[0])
    response = client.post(url("proposal-submit", proposal), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == url("proposal-detail", proposal) + "#checklist"
    assert "The proposal was not submitted" in html
    assert "needs at least two grantee partner organisations" in html
    assert "At least two grantee partner organisations must endorse" in html
    applicants_link = url("proposal-detail", proposal) + "#section-applicants"
    assert f'<a href="{applicants_link}">' in html
    assert Proposal.objects.get(pk=proposal.pk).status == S.DRAFT


def test_every_missing_piece_links_to_where_it_is_fixed(client):
    cop = CoPFactory()
    fund = FundFactory(country_programme=cop.country_programme)
    person = grantee_with_staff(cop)
    proposal = services.proposal_create(cop=cop, fund=fund, title="Bare", acting_user=person)
    client.force_login(person)
    html = client.post(url("proposal-submit", proposal), follow=True).content.decode()
    edit = url("proposal-edit", proposal)
    for anchor in (
        "id_problem_analysis",
        "id_objectives",
        "div_id_target_groups",
        "section-activities",
        "section-budget",
    ):
        assert f'href="{edit}#{anchor}"' in html
    edit_page = client.get(edit).content.decode()
    for anchor in (
        'id="id_problem_analysis"',
        'id="div_id_target_groups"',
        'id="section-activities"',
        'id="section-budget"',
    ):
        assert anchor in edit_page


def test_endorse_then_a_change_voids_it_and_the_page_says_so(client):
    proposal, staff = ready_proposal(endorse=False)
    first, second = staff
    client.force_login(first)
    detail = client.get(url("proposal-detail", proposal)).content.decode()
    assert "Endorse this proposal for" in detail
    response = client.post(url("proposal-endorse", proposal), follow=True)
    html = response.content.decode()
    assert "You endorsed the proposal" in html
    assert "Endorse this proposal for" not in html
    assert Endorsement.objects.filter(proposal=proposal, organisation=first.organisation).exists()

    # The edit page warns before a change...
    client.force_login(second)
    edit = client.get(url("proposal-edit", proposal))
    assert "Saving changes voids the endorsements given so far" in edit.content.decode()
    data = page_data(edit)
    data["provinces"] = ["Battambang, Pursat"]
    assert client.post(url("proposal-edit", proposal), flat(data)).status_code == 302

    # ...and after it the proposal page shows the endorsement as void.
    client.force_login(first)
    html = client.get(url("proposal-detail", proposal)).content.decode()
    assert "Void: the proposal changed after this organisation endorsed it" in html
    assert "Endorse this proposal for" in html
    proposal.refresh_from_db()
    assert services.valid_endorsement_organisation_ids(proposal) == set()


def test_submit_success(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[1])
    detail = client.get(url("proposal-detail", proposal)).content.decode()
    assert "Everything is ready" in detail
    response = client.post(url("proposal-submit", proposal), follow=True)
    html = response.content.decode()
    assert "Submitted." in html
    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED
    assert ProposalVersion.objects.filter(proposal=proposal).count() == 1
    assert "Before you can submit" not in html
    assert url("proposal-edit", proposal) not in html


def test_endorse_by_someone_not_an_applicant_is_a_message_not_an_error(client, proposal_and_staff):
    proposal, _staff = proposal_and_staff
    member_not_applicant = grantee_with_staff(proposal.cop)
    client.force_login(member_not_applicant)
    response = client.post(url("proposal-endorse", proposal), follow=True)
    assert response.status_code == 200
    assert "Only staff of an applicant organisation can endorse" in response.content.decode()


# --------------------------------------------------------------------------- applicants, withdraw


def test_add_and_remove_an_applicant(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    third = grantee_with_staff(proposal.cop)
    client.force_login(staff[0])
    detail = client.get(url("proposal-detail", proposal)).content.decode()
    assert f'<option value="{third.organisation_id}">' in detail
    response = client.post(
        url("applicant-add", proposal), {"organisation": third.organisation_id}, follow=True
    )
    assert "is now an applicant" in response.content.decode()
    assert proposal.applicants.filter(organisation=third.organisation).exists()
    response = client.post(
        url("applicant-remove", proposal), {"organisation": third.organisation_id}, follow=True
    )
    assert "is no longer an applicant" in response.content.decode()
    assert not proposal.applicants.filter(organisation=third.organisation).exists()


def test_adding_an_organisation_outside_the_cop_is_refused(client, proposal_and_staff, outsider):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    response = client.post(
        url("applicant-add", proposal), {"organisation": outsider.organisation_id}, follow=True
    )
    assert response.status_code == 200
    assert "Choose one of the CoP" in response.content.decode()
    assert not proposal.applicants.filter(organisation=outsider.organisation).exists()


def test_withdraw_asks_first_then_withdraws(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    page = client.get(url("proposal-withdraw", proposal)).content.decode()
    assert "cannot be edited, submitted or brought back" in page
    assert Proposal.objects.get(pk=proposal.pk).status == S.DRAFT
    response = client.post(
        url("proposal-withdraw", proposal), {"reason": "We merge with another CoP."}, follow=True
    )
    assert "The proposal was withdrawn." in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == S.WITHDRAWN
    response = client.post(url("proposal-withdraw", proposal), follow=True)
    assert response.status_code == 200  # a refusal is a message, not a 500


# --------------------------------------------------------------------------- revision and versions


def test_revision_request_then_versions_show_what_changed(client):
    proposal, staff, member = under_review()
    services.proposal_request_revision(
        proposal=proposal, acting_user=member, comment="Please budget the venue for two days."
    )
    client.force_login(staff[0])
    detail = client.get(url("proposal-detail", proposal)).content.decode()
    assert "The committee asks for a revision" in detail
    assert "Please budget the venue for two days." in detail

    data = page_data(client.get(url("proposal-edit", proposal)))
    data["lines-0-quantity"] = ["2"]
    data["title"] = ["Amplify the voice of the community through theatre, in two days"]
    data["lines-TOTAL_FORMS"] = ["2"]
    data.update(
        {
            "lines-1-category": ["meals"],
            "lines-1-description": ["Lunch"],
            "lines-1-unit": ["meal"],
            "lines-1-quantity": ["40"],
            "lines-1-unit_cost": ["5"],
            "lines-1-currency": ["EUR"],
        }
    )
    assert client.post(url("proposal-edit", proposal), flat(data)).status_code == 302
    versions = client.get(url("proposal-versions", proposal)).content.decode()
    assert "Changes not submitted yet" in versions

    for person in staff:
        services.proposal_endorse(proposal=proposal, acting_user=person)
    client.post(url("proposal-submit", proposal))
    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED

    html = client.get(url("proposal-versions", proposal)).content.decode()
    assert "Version 2" in html and "Version 1" in html
    assert "What changed since version 1" in html
    assert "in two days" in html
    assert "Added:</strong> Lunch" in html
    assert "Changed:</strong> Venue hire" in html
    assert "EUR 1,000.00" not in html  # totals are shown as snapshot strings
    assert "2,000.00" in html  # money as every page writes it (ccop/money.py)


# --------------------------------------------------------------------------- query count


def edit_page_queries(client, proposal) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("proposal-edit", proposal))
    assert response.status_code == 200
    return len(queries)


def test_edit_page_query_count_does_not_grow_with_budget_lines(client):
    small, staff = ready_proposal()
    add_lines(small, staff[0], 4)  # 5 lines
    large, large_staff = ready_proposal()
    add_lines(large, large_staff[0], 299)  # 300 lines
    assert small.budget_lines.count() == 5 and large.budget_lines.count() == 300

    client.force_login(staff[0])
    edit_page_queries(client, small)  # warm caches (content types, session)
    at_5 = edit_page_queries(client, small)
    client.force_login(large_staff[0])
    edit_page_queries(client, large)
    at_300 = edit_page_queries(client, large)
    # Printed for the record (run with -s to see it).
    print(f"\nproposal edit page queries: {at_5} with 5 budget lines, {at_300} with 300 budget lines")
    assert at_5 == at_300


def test_refusals_of_other_kinds_are_messages_too(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    client.post(url("proposal-submit", proposal))
    response = client.post(url("proposal-submit", proposal), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot become submitted" in html
    assert "things are still missing" not in html
    response = client.post(url("applicant-remove", proposal), {"organisation": "999999"}, follow=True)
    assert "This organisation is not an applicant." in response.content.decode()


def test_an_added_row_left_blank_does_not_block_saving(client, proposal_and_staff):
    proposal, staff = proposal_and_staff
    client.force_login(staff[0])
    data = page_data(client.get(url("proposal-edit", proposal)))
    data = page_data(client.post(url("proposal-edit", proposal), {**flat(data), "add": "lines"}))
    data = page_data(client.post(url("proposal-edit", proposal), {**flat(data), "add": "activities"}))
    assert data["lines-1-currency"] == ["EUR"] and data["activities-1-is_primary"] == ["on"]
    data["provinces"] = ["Siem Reap"]
    response = client.post(url("proposal-edit", proposal), flat(data))
    assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).provinces == "Siem Reap"
    assert proposal.budget_lines.count() == 1 and proposal.activities.count() == 1
