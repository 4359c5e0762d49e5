"""`services.proposal_save_plan` (what the edit page saves in one step) and `diff.snapshot_diff`
(what changed between two submitted versions)."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from ccop.errors import RuleViolation, StaleEdit
from ccop.models import RightsholderGroup
from proposals import services
from proposals.diff import Labels, snapshot_diff
from proposals.models import BudgetLine, ExchangeRate, PlannedActivity, Proposal
from tests.factories import ready_proposal

pytestmark = pytest.mark.django_db


def plan_of(proposal: Proposal) -> dict:
    """The proposal's plan as the edit page would send it back unchanged."""
    groups = list(RightsholderGroup.objects.all())
    activities = []
    for a in proposal.activities.all():
        numbers = {p.rightsholder_group_id: p.number for p in a.expected_participants.all()}
        activities.append(
            {
                "id": a.pk,
                **{name: getattr(a, name) for name in services.ACTIVITY_FIELDS},
                "participants": {g: numbers.get(g.pk) for g in groups},
            }
        )
    lines = [
        {
            "id": line.pk,
            **{name: getattr(line, name) for name in services.BUDGET_LINE_FIELDS},
        }
        for line in BudgetLine.objects.filter(proposal=proposal).select_related("activity")
    ]
    return {"activities": activities, "budget_lines": lines}


def save(proposal, person, **kwargs):
    return services.proposal_save_plan(
        proposal=proposal, acting_user=person, expected_revision=proposal.revision, **kwargs
    )


# --------------------------------------------------------------------------- proposal_save_plan


def test_saves_narrative_rows_and_rates_in_one_revision():
    proposal, staff = ready_proposal()
    plan = plan_of(proposal)
    plan["budget_lines"].append(
        {
            "category": "travel",
            "description": "Bus",
            "unit": "ticket",
            "quantity": Decimal("4"),
            "unit_cost": Decimal("25000"),
            "currency": "KHR",
            "activity": None,
        }
    )
    pwd = RightsholderGroup.objects.get(code="pwd")
    plan["activities"][0]["participants"][pwd] = 30
    saved = save(
        proposal, staff[0], narrative={"provinces": "Pursat"}, rates={"KHR": Decimal("0.00023")}, **plan
    )
    assert saved.revision == proposal.revision + 1
    assert saved.provinces == "Pursat"
    assert BudgetLine.objects.filter(proposal=proposal).count() == 2
    new = BudgetLine.objects.get(proposal=proposal, description="Bus")
    assert new.order > BudgetLine.objects.get(proposal=proposal, description="Venue hire").order
    assert ExchangeRate.objects.get(proposal=proposal, currency="KHR").rate == Decimal("0.00023")
    activity = proposal.activities.get()
    assert activity.expected_participants.get(rightsholder_group=pwd).number == 30
    proposal.refresh_from_db()
    assert proposal.revision == saved.revision  # the instance passed in is left alone until refreshed


def test_a_refusal_leaves_everything_as_it_was_with_every_error_in_place():
    proposal, staff = ready_proposal()
    before = services.proposal_snapshot(proposal)
    plan = plan_of(proposal)
    plan["budget_lines"][0]["description"] = "Changed but refused with the rest"
    plan["budget_lines"].append({**plan["budget_lines"][0], "id": None, "currency": "THB"})
    plan["activities"][0]["ends_on"] = plan["activities"][0]["starts_on"].replace(year=2023)
    with pytest.raises(services.PlanInvalid) as excinfo:
        save(proposal, staff[0], narrative={"title": ""}, rates={"EUR": Decimal("2")}, **plan)
    errors = excinfo.value.errors
    assert set(errors) == {("narrative", None), ("activities", 0), ("budget_lines", 1), ("rates", "EUR")}
    text = " ".join(excinfo.value.messages)
    assert "Budget line 2: Currency: The fund does not accept THB" in text
    assert "Activity 1" in text
    proposal.refresh_from_db()
    assert services.proposal_snapshot(proposal) == before
    assert Proposal.objects.get(pk=proposal.pk).revision == proposal.revision


def test_a_stale_revision_writes_nothing():
    proposal, staff = ready_proposal()
    stale = proposal.revision
    services.proposal_update(proposal=proposal, acting_user=staff[1], data={"provinces": "Kampot"})
    with pytest.raises(StaleEdit):
        services.proposal_save_plan(
            proposal=proposal,
            acting_user=staff[0],
            expected_revision=stale,
            narrative={"provinces": "Pursat"},
        )
    assert Proposal.objects.get(pk=proposal.pk).provinces == "Kampot"


def test_rows_not_listed_are_deleted_and_unchanged_rows_are_not_written():
    proposal, staff = ready_proposal()
    services.budget_line_add(
        proposal=proposal,
        acting_user=staff[0],
        category="meals",
        description="Lunch",
        unit="meal",
        quantity=Decimal("10"),
        unit_cost=Decimal("3"),
        currency="EUR",
    )
    proposal.refresh_from_db()
    plan = plan_of(proposal)
    venue = BudgetLine.objects.get(proposal=proposal, description="Venue hire")
    history_before = venue.history.count()
    plan["budget_lines"] = [line for line in plan["budget_lines"] if line["description"] == "Venue hire"]
    save(proposal, staff[0], **plan)
    assert list(BudgetLine.objects.filter(proposal=proposal).values_list("description", flat=True)) == [
        "Venue hire"
    ]
    assert venue.history.count() == history_before


def test_an_id_of_another_proposal_never_touches_it():
    proposal, staff = ready_proposal()
    other, _other_staff = ready_proposal()
    foreign = BudgetLine.objects.get(proposal=other)
    plan = plan_of(proposal)
    plan["budget_lines"].append({**plan["budget_lines"][0], "id": foreign.pk, "description": "Hijack"})
    save(proposal, staff[0], **plan)
    foreign.refresh_from_db()
    assert foreign.description == "Venue hire" and foreign.proposal_id == other.pk
    assert BudgetLine.objects.filter(proposal=proposal, description="Hijack").exists()


def test_a_line_cannot_point_at_an_activity_being_removed_or_of_another_proposal():
    proposal, staff = ready_proposal()
    other, _ = ready_proposal()
    plan = plan_of(proposal)
    plan["budget_lines"][0]["activity"] = other.activities.get()
    with pytest.raises(services.PlanInvalid) as excinfo:
        save(proposal, staff[0], **plan)
    assert ("budget_lines", 0) in excinfo.value.errors
    plan = plan_of(proposal)
    plan["activities"] = []
    with pytest.raises(services.PlanInvalid):
        save(proposal, staff[0], **plan)
    assert PlannedActivity.objects.filter(proposal=proposal).count() == 1


def test_a_submitted_proposal_is_frozen():
    proposal, staff = ready_proposal()
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    proposal.refresh_from_db()
    with pytest.raises(RuleViolation) as excinfo:
        save(proposal, staff[0], narrative={"provinces": "Pursat"})
    assert excinfo.value.code == "frozen"


def test_participants_zero_removes_and_a_rate_of_none_removes():
    proposal, staff = ready_proposal()
    pwd = RightsholderGroup.objects.get(code="pwd")
    plan = plan_of(proposal)
    plan["activities"][0]["participants"][pwd] = 12
    save(proposal, staff[0], rates={"USD": Decimal("0.9")}, **plan)
    proposal.refresh_from_db()
    plan = plan_of(proposal)
    plan["activities"][0]["participants"][pwd] = 0
    save(proposal, staff[0], rates={"USD": None}, **plan)
    assert not proposal.activities.get().expected_participants.exists()
    assert not proposal.exchange_rates.exists()


# --------------------------------------------------------------------------- snapshot_diff


def snapshot() -> dict:
    return {
        "title": "Theatre",
        "problem_analysis": "Barriers.",
        "objectives": "Awareness.",
        "target_groups": ["pwd"],
        "provinces": "Battambang",
        "starts_on": "2024-01-01",
        "ends_on": "2024-06-30",
        "budget_option": 1,
        "phase": None,
        "applicants": ["KHEN", "WPM"],
        "exchange_rates": {},
        "activities": [
            {"title": "Workshop", "agenda": "9:00", "is_primary": True, "participants": {"pwd": 20}},
            {"title": "Performance", "agenda": "10:00", "is_primary": True, "participants": {}},
        ],
        "budget_lines": [
            {
                "activity": 0,
                "category": "venue",
                "description": "Hall",
                "unit": "day",
                "quantity": "1",
                "unit_cost": "100.00",
                "currency": "EUR",
                "total": "100.00",
            },
            {
                "activity": 1,
                "category": "meals",
                "description": "Lunch",
                "unit": "meal",
                "quantity": "20",
                "unit_cost": "3.00",
                "currency": "EUR",
                "total": "60.00",
            },
        ],
    }


def test_identical_snapshots_have_no_difference():
    assert not snapshot_diff(snapshot(), snapshot())


def test_narrative_fields_with_labels():
    new = snapshot()
    new["objectives"] = "Awareness and policy change."
    new["target_groups"] = ["pwd", "age"]
    new["budget_option"] = 2
    new["applicants"] = ["KHEN", "LiD", "WPM"]
    labels = Labels(
        groups={"pwd": "People with disabilities", "age": "Age"}, budget_options={1: "One", 2: "Two"}
    )
    diff = snapshot_diff(snapshot(), new, labels)
    changes = {c.label: (c.before, c.after) for c in diff.narrative}
    assert changes == {
        "Objectives": ("Awareness.", "Awareness and policy change."),
        "Target rightsholder groups": ("People with disabilities", "People with disabilities, Age"),
        "Budget management option": ("One", "Two"),
        "Applicant organisations": ("KHEN, WPM", "KHEN, LiD, WPM"),
    }


def test_rows_are_matched_by_content_not_position():
    """Removing the first activity shifts the others' positions (budget lines refer to activities
    by position): the lines still match, and only what changed is reported."""
    old = snapshot()
    new = copy.deepcopy(old)
    del new["activities"][0]
    new["budget_lines"] = [
        {**old["budget_lines"][1], "activity": 0, "quantity": "25", "total": "75.00"},
        {
            "activity": None,
            "category": "travel",
            "description": "Bus",
            "unit": "ticket",
            "quantity": "2",
            "unit_cost": "5.00",
            "currency": "USD",
            "total": "10.00",
        },
    ]
    new["exchange_rates"] = {"USD": "0.9"}
    diff = snapshot_diff(old, new)
    assert [(r.kind, r.label) for r in diff.activities] == [("removed", "Workshop")]
    assert [(r.kind, r.label) for r in diff.budget_lines] == [
        ("changed", "Lunch"),
        ("added", "Bus"),
        ("removed", "Hall"),
    ]
    lunch = diff.budget_lines[0]
    assert {c.label: (c.before, c.after) for c in lunch.fields} == {
        "Quantity": ("20", "25"),
        "Total": ("60.00", "75.00"),
    }
    assert [(c.label, c.before, c.after) for c in diff.exchange_rates] == [("USD", "—", "0.9")]


def test_participants_change_is_reported_on_the_activity():
    new = snapshot()
    new["activities"][0]["participants"] = {"pwd": 25, "women": 5}
    diff = snapshot_diff(snapshot(), new, Labels(groups={"pwd": "PwD", "women": "Women"}))
    (row,) = diff.activities
    assert row.kind == "changed" and row.label == "Workshop"
    assert [(c.label, c.before, c.after) for c in row.fields] == [
        ("Expected participants", "PwD: 20", "PwD: 25; Women: 5")
    ]
