"""The edit page of a large budget stays light (issue 13): budget lines are edited a page at a
time and each row names its activity through one list shared by the page, while saving a page
keeps every other line as it was and the totals count them all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from proposals import services
from proposals.forms import LINES_PER_PAGE
from proposals.models import BudgetLine, PlannedActivity
from tests.factories import ready_proposal
from tests.proposals.test_views import flat, page_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def large():
    """A draft with three activities and 60 budget lines (three pages of lines)."""
    proposal, staff = ready_proposal()
    for title in ("Street theatre", "Radio talk"):
        services.activity_add(proposal=proposal, acting_user=staff[0], title=title, agenda="10:00 Talk")
    activities = list(proposal.activities.all())
    BudgetLine.objects.bulk_create(
        BudgetLine(
            proposal=proposal,
            activity=activities[i % 3],
            category=BudgetLine.Category.MEALS,
            description=f"Meal {i}",
            unit="meal",
            quantity=Decimal("1"),
            unit_cost=Decimal("10.00"),
            currency="EUR",
            order=i + 1,
        )
        for i in range(59)
    )
    proposal.refresh_from_db()
    return proposal, staff


def edit_url(proposal, **query) -> str:
    url = reverse("proposals:proposal-edit", args=[proposal.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_lines_are_edited_a_page_at_a_time_and_the_others_are_kept(client, large):
    proposal, staff = large
    client.force_login(staff[0])
    page = client.get(edit_url(proposal, lines_page=2))
    html = page.content.decode()
    assert LINES_PER_PAGE == 25
    assert f"Lines 26 to 50 of {BudgetLine.objects.filter(proposal=proposal).count()}." in html
    assert 'name="lines-24-description"' in html and 'name="lines-25-description"' not in html
    assert "Budget line 26" in html and "Budget line 25<" not in html
    # One list of activities for the page, no <select> per row.
    assert html.count('<datalist id="activity-list">') == 1 and 'select name="lines-0-activity"' not in html
    assert html.count('list="activity-list"') == LINES_PER_PAGE + 1  # the rows and the empty template

    data = page_data(page)
    first = BudgetLine.objects.filter(proposal=proposal).order_by("order", "pk")[25]
    assert data["lines-0-id"] == [str(first.pk)]
    assert data["lines-0-activity"] == [
        f"{[a.pk for a in proposal.activities.all()].index(first.activity_id) + 1} · {first.activity.title}"
    ]
    data["lines-0-description"] = ["Meal changed on page two"]
    data["lines-1-DELETE"] = ["on"]
    data["lines-2-activity"] = ["3"]  # by its number
    data["lines-3-activity"] = ["street theatre"]  # by its title, any case
    data["lines-4-activity"] = [""]  # none
    before = {
        line.pk: (line.description, line.activity_id) for line in BudgetLine.objects.filter(proposal=proposal)
    }
    response = client.post(edit_url(proposal), flat(data))
    assert response.status_code == 302 and response["Location"].endswith("&lines_page=2")

    after = {
        line.pk: (line.description, line.activity_id) for line in BudgetLine.objects.filter(proposal=proposal)
    }
    rows = [int(data[f"lines-{i}-id"][0]) for i in range(5)]
    activities = {a.title: a.pk for a in PlannedActivity.objects.filter(proposal=proposal)}
    assert after[rows[0]][0] == "Meal changed on page two"
    assert rows[1] not in after
    assert after[rows[2]][1] == list(proposal.activities.all())[2].pk  # "Activity 3" on the page
    assert after[rows[3]][1] == activities["Street theatre"]
    assert after[rows[4]][1] is None
    untouched = set(before) - set(rows)
    assert {pk: after[pk] for pk in untouched} == {pk: before[pk] for pk in untouched}


def test_totals_count_the_lines_of_every_page(client, large):
    proposal, staff = large
    client.force_login(staff[0])
    html = client.get(edit_url(proposal, lines_page=3)).content.decode()
    total = sum(line.total for line in BudgetLine.objects.filter(proposal=proposal))
    assert f"EUR {total:,.2f}" in html


def test_an_unknown_activity_is_refused_with_the_input_kept(client, large):
    proposal, staff = large
    client.force_login(staff[0])
    data = page_data(client.get(edit_url(proposal)))
    data["lines-0-activity"] = ["Activity that does not exist"]
    response = client.post(edit_url(proposal), flat(data))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose an activity from the list: its number (1 to 3), or leave it empty." in html
    assert 'value="Activity that does not exist"' in html


def test_a_page_number_out_of_range_shows_the_last_page(client, large):
    proposal, staff = large
    client.force_login(staff[0])
    html = client.get(edit_url(proposal, lines_page=99)).content.decode()
    assert "Lines 51 to 60 of 60." in html


def test_the_proposal_page_shows_a_large_budget_fifty_lines_at_a_time(client, large):
    proposal, staff = large
    client.force_login(staff[0])
    url = reverse("proposals:proposal-detail", args=[proposal.pk])
    first = client.get(url).content.decode()
    second = client.get(url, {"lines_page": 2}).content.decode()
    lines = list(BudgetLine.objects.filter(proposal=proposal).order_by("order", "pk"))
    assert "Lines 1 to 50 of 60." in first and "Lines 51 to 60 of 60." in second
    assert f">{lines[49].description}</th>" in first and f">{lines[50].description}</th>" not in first
    assert f">{lines[50].description}</th>" in second
    total = sum(line.total for line in lines)
    assert f"EUR {total:,.2f}" in first and f"EUR {total:,.2f}" in second  # totals of every line
