"""The audit trail (`ccop.audit`, `/audit/`): every change through the services records who made
it; a facilitator reads their own programme's changes (and only those) with what changed,
filtered by proposal or organisation, page by page, in a bounded number of queries; nobody else
reads it, and nobody alters or reverts recorded history, from the page or from the admin."""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalChanges

from ccop.audit import KINDS, ReadOnlyHistoryAdmin, audit_entries
from ccop.models import CountryProgramme, Organisation, RightsholderGroup
from ccop.roles import sync_role_groups, user_set_role
from proposals import pdf, services
from proposals.models import BudgetLine, ReviewCriterion
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    FundFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    ready_proposal,
)

pytestmark = pytest.mark.django_db

URL = "/audit/"
FAKE_PDF = b"%PDF-1.4\n%%EOF\n"


def text(response, part: str = "") -> str:
    """What a person reads (of the table body only with part="tbody"): tags and visually
    hidden words for screen readers removed."""
    page = response.content.decode()
    if part:
        page = page[page.index(f"<{part}>") : page.index(f"</{part}>")]
    page = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", page)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def rows(response) -> str:
    return text(response, "tbody")


@pytest.fixture
def programmes():
    cambodia = CountryProgrammeFactory(code="KH", name="Voice Cambodia")
    laos = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")
    return cambodia, laos


def proposal_in(programme, title: str, **kwargs):
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme)
    proposal, staff = ready_proposal(cop=cop, fund=fund, **kwargs)
    services.proposal_update(proposal=proposal, acting_user=staff[0], data={"title": title})
    proposal.refresh_from_db()
    return proposal, staff


def facilitator_of(programme, **kwargs):
    person = FacilitatorFactory(country_programme=programme, **kwargs)
    return user_set_role(user=person, role=person.role)


def committee_member_of(programme):
    person = CommitteeMemberFactory(country_programme=programme)
    return user_set_role(user=person, role=person.role)


# --------------------------------------------------------------------------- who, for every change


def full_cycle(programme, title: str):
    """A proposal through the whole cycle, through the services only, outside any web request
    (as the shell, a command or an import would): every tracked proposal part changes."""
    proposal, staff = proposal_in(programme, title)
    groups = list(RightsholderGroup.objects.filter(code__in=["pwd", "age"]))
    services.activity_add(
        proposal=proposal,
        acting_user=staff[1],
        participants={groups[0]: 10, groups[1]: 5},
        title="Rehearsal",
        agenda="Morning",
        starts_on=datetime.date(2024, 2, 1),
        ends_on=datetime.date(2024, 2, 1),
        place="Battambang",
    )
    services.exchange_rate_set(proposal=proposal, acting_user=staff[0], currency="USD", rate=Decimal("0.9"))
    services.exchange_rate_set(proposal=proposal, acting_user=staff[0], currency="USD", rate=Decimal("0.92"))
    services.budget_import_apply(
        proposal=proposal,
        acting_user=staff[1],
        mode="append",
        rows=[
            {
                "category": BudgetLine.Category.MEALS,
                "description": "Lunch",
                "unit": "meal",
                "quantity": Decimal("20"),
                "unit_cost": Decimal("3"),
                "currency": "USD",
                "activity": None,
            }
        ],
    )
    for person in staff:
        services.proposal_endorse(proposal=proposal, acting_user=person)
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    member, other = committee_member_of(programme), committee_member_of(programme)
    services.conflict_declare(proposal=proposal, member=other, reason="My sister leads an applicant.")
    services.proposal_start_review(proposal=proposal, acting_user=member)
    criterion, _new = ReviewCriterion.objects.get_or_create(fund=proposal.fund, name="Relevance")
    services.review_record(
        proposal=proposal, reviewer=member, recommendation="approve", score=8, scores={criterion: 4}
    )
    services.review_record(
        proposal=proposal, reviewer=member, recommendation="approve", score=9, scores={criterion: 5}
    )
    services.proposal_approve(proposal=proposal, acting_user=member, reasons="Relevant.")
    return proposal


@pytest.fixture
def fake_pdf(monkeypatch):
    monkeypatch.setattr(pdf, "render_proposal_pdf", lambda **_kw: FAKE_PDF)


def test_every_change_through_the_services_records_who_made_it(fake_pdf, programmes):
    cambodia, _laos = programmes
    proposal = full_cycle(cambodia, "Theatre in Battambang")

    for kind in KINDS:
        if not kind.proposal:
            continue  # funds, CoPs, organisations, memberships: made by the factories here
        rows = audit_entries(programme_id=cambodia.pk, proposal_id=proposal.pk, kind=kind.key)
        assert rows, f"no history of {kind.key}"
        history = kind.history_model.objects.filter(history_id__in=[r[1] for r in rows])
        assert not history.filter(history_user__isnull=True).exists(), kind.key


# --------------------------------------------------------------------------- who reads what


def test_a_facilitator_reads_their_programmes_changes_and_none_of_another(client, programmes):
    cambodia, laos = programmes
    ours, our_staff = proposal_in(cambodia, "Sign language workshop in Kampot")
    theirs, _their_staff = proposal_in(laos, "ການອົບຮົມ Vientiane radio show")
    FundFactory(country_programme=laos, name="Laos small grants")
    OrganisationFactory(country_programme=laos, acronym="LAOORG")

    client.force_login(facilitator_of(cambodia))
    page = client.get(URL)
    assert page.status_code == 200
    body = text(page)
    assert "Sign language workshop in Kampot" in body
    assert f"{our_staff[0].get_full_name()} ({our_staff[0].username})" in body
    assert "Vientiane" not in body and "Laos small grants" not in body and "LAOORG" not in body
    assert f"/proposals/{theirs.pk}/" not in body

    # Asking for the other programme's proposal by id shows nothing of it.
    sneaky = client.get(URL, {"proposal": theirs.pk})
    assert sneaky.status_code == 200
    assert "Vientiane" not in text(sneaky) and f"There is no proposal #{theirs.pk} in your programme" in text(
        sneaky
    )
    # An organisation of the other programme is not found either, by acronym or by number.
    for value in ("LAOORG", "laoorg", str(Organisation.objects.get(acronym="LAOORG").pk)):
        sneaky = text(client.get(URL, {"organisation": value}))
        assert (
            "No organisation of your programme has the acronym" in sneaky
            and "LAOORG" not in sneaky.replace(value, "")
        )

    client.force_login(facilitator_of(laos))
    body = text(client.get(URL))
    assert "Vientiane" in body and "Laos small grants" in body and "LAOORG" in body
    assert "Kampot" not in body


def test_superusers_read_every_programme(client, programmes):
    cambodia, laos = programmes
    proposal_in(cambodia, "Kampot workshop")
    proposal_in(laos, "Vientiane radio show")
    client.force_login(UserFactory(is_superuser=True, is_staff=True, role=""))
    body = text(client.get(URL))
    assert "Kampot workshop" in body and "Vientiane radio show" in body


def test_nobody_else_reads_it(client, programmes):
    cambodia, _laos = programmes
    proposal, staff = proposal_in(cambodia, "Kampot workshop")
    assert client.get(URL).status_code == 302  # anonymous: to the login page
    for person in (
        staff[0],
        committee_member_of(cambodia),
        facilitator_of(None),  # a facilitator without a programme
        FacilitatorFactory(country_programme=cambodia, is_active=False),
    ):
        client.force_login(person)
        response = client.get(URL)
        assert response.status_code in (302, 403), person
        assert "Kampot workshop" not in text(response)


# --------------------------------------------------------------------------- what changed, filters


def test_each_change_shows_who_when_and_the_fields_before_and_after(client, programmes):
    cambodia, _laos = programmes
    proposal, staff = proposal_in(cambodia, "Kampot workshop")
    services.proposal_update(
        proposal=proposal, acting_user=staff[1], data={"provinces": "Kampot, Kep"}, expected_revision=None
    )
    line = BudgetLine.objects.get(proposal=proposal)
    services.proposal_save_plan(
        proposal=proposal,
        acting_user=staff[1],
        expected_revision=None,
        budget_lines=[],  # removes the line
    )
    client.force_login(facilitator_of(cambodia))
    body = text(client.get(URL, {"proposal": proposal.pk}))
    assert "Provinces: Battambang → Kampot, Kep" in body
    assert "Title: Amplify the voice of the community through theatre → Kampot workshop" in body
    assert f"Budget line #{line.pk}: Venue hire" in body and "deleted" in body
    assert f"{staff[1].get_full_name()} ({staff[1].username})" in body
    assert "Reason: submit" not in body


def test_filter_by_proposal_and_by_organisation(client, programmes):
    cambodia, _laos = programmes
    first, first_staff = proposal_in(cambodia, "First proposal")
    second, second_staff = proposal_in(cambodia, "Second proposal")
    MembershipFactory(cop=second.cop, organisation=OrganisationFactory(country_programme=cambodia))
    client.force_login(facilitator_of(cambodia))

    body = rows(client.get(URL, {"proposal": first.pk}))
    assert f"#{first.pk} First proposal" in body and f"#{second.pk} Second proposal" not in body

    organisation = second_staff[0].organisation
    body = rows(client.get(URL, {"organisation": organisation.pk}))
    assert f"#{second.pk} Second proposal" in body and f"#{first.pk} First proposal" not in body
    assert f"Organisation #{organisation.pk}: {organisation.acronym}" in body  # its own record

    body = rows(client.get(URL, {"kind": "ccop.membership"}))
    assert "Membership #" in body and "Proposal #" not in body


def test_the_page_is_an_accessible_table_and_pages_keep_the_filters(client, programmes):
    cambodia, _laos = programmes
    proposal, staff = proposal_in(cambodia, "Kampot workshop")
    for i in range(55):
        services.budget_line_add(
            proposal=proposal,
            acting_user=staff[0],
            category=BudgetLine.Category.MEALS,
            description=f"Meal {i}",
            unit="meal",
            quantity=Decimal("1"),
            unit_cost=Decimal("2"),
            currency="EUR",
        )
    client.force_login(facilitator_of(cambodia))
    response = client.get(URL, {"proposal": proposal.pk})
    page = response.content.decode()
    assert "<caption" in page and page.count('<th scope="col">') == 6 and '<th scope="row"' in page
    assert "extends" not in page and '<main id="main"' in page
    # Pages by cursor keep the filters: 50 changes, then the rest, then back.
    older = re.search(r'href="\?(proposal=\d+&amp;before=[^"]+)">Older changes', page).group(1)
    assert older.startswith(f"proposal={proposal.pk}&amp;")
    second = client.get(URL + "?" + html.unescape(older)).content.decode()
    first_rows, second_rows = page.count('<th scope="row"'), second.count('<th scope="row"')
    assert first_rows == 50 and 0 < second_rows < 50
    assert "Older changes" not in second and "Newer changes" in second
    newer = re.search(r'href="\?(proposal=\d+&amp;after=[^"]+)">Newer changes', second).group(1)
    back = client.get(URL + "?" + html.unescape(newer)).content.decode()
    assert _row_times(back) == _row_times(page) and "Newer changes" not in back
    assert first_rows + second_rows == entry_count(proposal_id=proposal.pk)
    # A cursor this page did not write shows the newest changes.
    assert client.get(URL, {"before": "yesterday|x|1"}).status_code == 200


def _row_times(page: str) -> list[str]:
    return re.findall(r'<th scope="row"[^>]*><time datetime="([^"]+)"', page)


def test_the_query_count_does_not_grow_with_the_rows(
    client, fake_pdf, programmes, django_assert_max_num_queries
):
    """Each page costs a fixed number of queries per kind of record on it (the rows, their
    previous versions) and per kind of related name, whatever the number of rows."""
    cambodia, _laos = programmes
    facilitator = facilitator_of(cambodia)
    full_cycle(cambodia, "The first")

    def page_queries(**query) -> int:
        client.force_login(facilitator)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, query).status_code == 200
        return len(captured)

    small = page_queries()
    assert entry_count() < 50  # one page: every kind of record on it
    for i in range(4):
        full_cycle(cambodia, f"Proposal {i}")
    assert entry_count() > 150
    with django_assert_max_num_queries(small):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(small):
        page = client.get(URL).content.decode()
    older = re.search(r'href="\?(before=[^"]+)">Older changes', page).group(1)
    with django_assert_max_num_queries(small):
        assert client.get(URL + "?" + html.unescape(older)).status_code == 200
    assert small <= 60


def entry_count(**filters) -> int:
    return audit_entries(programme_id=CountryProgramme.objects.get(code="KH").pk, **filters).count()


# --------------------------------------------------------------------------- nobody alters it


def test_the_page_refuses_anything_but_reading(client, programmes):
    cambodia, _laos = programmes
    client.force_login(facilitator_of(cambodia))
    for method in (client.post, client.put, client.delete, client.patch):
        assert method(URL).status_code == 405


def _fund_form(fund) -> dict:
    return {
        "name": fund.name,
        "country_programme": fund.country_programme_id,
        "currency": "EUR",
        "accepted_currencies": "EUR",
        "ceiling": "99999999.00",
        "opens_on": str(fund.opens_on),
        "closes_on": str(fund.closes_on),
        "description": "reverted",
    }


def test_the_admins_revert_form_saves_nothing_for_anyone(client, programmes):
    """simple-history's revert form saved any POST from someone with view permission only, even
    for another programme's fund: now every POST is refused and the fund stays as it was."""
    cambodia, laos = programmes
    fund = FundFactory(country_programme=laos, ceiling=Decimal("50000.00"))
    version = fund.history.first()
    url = reverse("admin:grants_fund_simple_history", args=[fund.pk, version.history_id])
    superuser = UserFactory(is_superuser=True, is_staff=True, role="")
    for person in (committee_member_of(cambodia), committee_member_of(laos), facilitator_of(laos), superuser):
        client.force_login(person)
        assert client.post(url, _fund_form(fund)).status_code == 403
        fund.refresh_from_db()
        assert fund.ceiling == Decimal("50000.00") and fund.description == ""
    assert fund.history.count() == 1
    client.force_login(superuser)
    assert client.get(url).status_code == 200  # looking at an old version is fine


def test_the_admins_history_pages_show_only_the_admins_own_scope(client, programmes):
    cambodia, laos = programmes
    fund = FundFactory(country_programme=laos)
    version = fund.history.first()
    history = reverse("admin:grants_fund_history", args=[fund.pk])
    form = reverse("admin:grants_fund_simple_history", args=[fund.pk, version.history_id])
    client.force_login(committee_member_of(cambodia))
    assert client.get(history).status_code == 404
    assert client.get(form).status_code == 404
    client.force_login(facilitator_of(laos))
    assert client.get(history).status_code == 200
    assert client.get(reverse("admin:grants_fund_history", args=["not-a-number"])).status_code == 404


def test_no_admin_edits_historical_records():
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
    for model, model_admin in admin.site._registry.items():
        assert not issubclass(model, HistoricalChanges), f"{model} has an admin"
        if isinstance(model_admin, SimpleHistoryAdmin):
            assert isinstance(model_admin, ReadOnlyHistoryAdmin), type(model_admin)
    sync_role_groups()
    for group in Group.objects.all():
        writable = group.permissions.filter(content_type__model__startswith="historical").exclude(
            codename__startswith="view_"
        )
        assert not writable.exists(), (group.name, list(writable.values_list("codename", flat=True)))


def test_tracked_models_cover_proposals_budgets_decisions_grants_and_memberships():
    keys = {kind.key for kind in KINDS}
    assert {
        "proposals.proposal",
        "proposals.budgetline",
        "proposals.exchangerate",
        "proposals.decision",
        "grants.grant",
        "ccop.membership",
    } <= keys
    for kind in KINDS:
        assert issubclass(kind.history_model, HistoricalChanges)
