"""`manage.py seed_demo`: the fixtures' reference data, then the demo's proposals, grants and
reports through the services; every Cambodian CoP of the booklet shows its real activities,
outputs and lessons; a second run changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from activities.models import ActivityReport, Lesson, Output
from activities.selectors import planned_vs_delivered, reports_waiting_for
from ccop.models import CoP, User
from grants.models import Grant

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "reports": list(
            ActivityReport.objects.order_by("pk").values_list(
                "pk", "status", "grant_id", "planned_activity_id"
            )
        ),
        "outputs": Output.objects.count(),
        "lessons": Lesson.objects.count(),
        "history": ActivityReport.history.count(),
        "users": User.objects.count(),
        "grants": Grant.objects.count(),
    }


def test_the_demo_shows_every_cambodian_cop_with_its_activities_outputs_and_lessons(client):
    call_command("seed_demo", verbosity=0)
    for cop in CoP.objects.filter(country_programme__code="KH"):
        reports = ActivityReport.objects.filter(
            cop=cop, status=ActivityReport.Status.PUBLISHED, source__gt=""
        )
        assert reports.exists(), cop.code
        assert Lesson.objects.filter(cop=cop).exists() or cop.code in ("cop-lgbtiq", "cop-dic"), cop.code
    assert Output.objects.filter(cop__code="cop-dic", kind="report").exclude(findings="").exists()
    assert User.objects.filter(username__startswith="staff.").exists()

    women = Grant.objects.get(proposal__cop__code="cop-women")
    rows = planned_vs_delivered(women, User.objects.get(username="channary.llc")).rows
    assert [len(row.delivered) for row in rows] == [1, 1, 1, 1]
    assert rows[3].actual_total == 89  # the booklet's "around 89"
    facilitator = User.objects.get(username="channary.llc")
    assert [r.title for r in reports_waiting_for(facilitator)["to_review"]] == ["Script story installation"]
    assert [r.title for r in reports_waiting_for(User.objects.get(username="sophea.opkc"))["to_write"]] == [
        "4 x 2 days training to core actor IP youth"
    ]

    before = snapshot()
    call_command("seed_demo", verbosity=0)
    assert snapshot() == before

    client.force_login(facilitator)
    home = client.get(reverse("home")).content.decode()
    assert "Activity reports to review" in home and "Script story installation" in home
