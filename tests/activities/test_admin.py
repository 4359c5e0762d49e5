"""The facilitators' admin: reports, outputs and lessons of their programme only, accepted,
sent back (with a comment, the text kept) and published through the services, with the same
refusals as the portal; lesson themes a facilitator adds belong to their programme."""

from __future__ import annotations

import pytest

from activities import services
from activities.models import ActivityReport, LessonTheme, Output
from tests.activities.conftest import complete
from tests.admin_helpers import admin_url, messages_of, page_text, run_action, superuser

pytestmark = pytest.mark.django_db
S = ActivityReport.Status


def submitted(world, **fields):
    report = services.report_create(
        grant=world.grant, acting_user=world.author, planned_activity=world.planned[0], **complete(**fields)
    )
    return services.report_submit(report=report, acting_user=world.author)


def test_a_facilitator_accepts_and_publishes_in_the_admin(client, world):
    report = submitted(world)
    client.force_login(world.facilitator)
    response = run_action(client, ActivityReport, "publish", [report])
    assert any("cannot be published" in m for m in messages_of(response))
    report.refresh_from_db()
    assert report.status == S.SUBMITTED
    run_action(client, ActivityReport, "accept", [report])
    run_action(client, ActivityReport, "publish", [report])
    report.refresh_from_db()
    assert report.status == S.PUBLISHED and report.published_by == world.facilitator


def test_sending_back_in_the_admin_asks_for_the_comment_and_keeps_the_text(client, world):
    report = submitted(world)
    client.force_login(world.facilitator)
    response = run_action(client, ActivityReport, "send_back", [report])
    assert response.status_code == 200 and "What should the CoP change?" in page_text(response)
    report.refresh_from_db()
    assert report.status == S.SUBMITTED
    response = run_action(client, ActivityReport, "send_back", [report], apply="1", comment="")
    assert "This field is required." in page_text(response)
    run_action(client, ActivityReport, "send_back", [report], apply="1", comment="Add the photos, please.")
    report.refresh_from_db()
    assert report.status == S.SENT_BACK and report.description == complete()["description"]
    assert report.transitions.last().comment == "Add the photos, please."


def test_the_admin_shows_a_programme_nothing_of_another(client, world):
    report = submitted(world)
    client.force_login(world.facilitator_b)
    response = client.get(admin_url(ActivityReport))
    assert response.status_code == 200 and report.title not in page_text(response)
    assert client.get(admin_url(ActivityReport, "change", report.pk)).status_code == 302  # "does not exist"
    run_action(client, ActivityReport, "accept", [report])
    report.refresh_from_db()
    assert report.status == S.SUBMITTED


def test_nobody_edits_adds_or_deletes_a_report_in_the_admin(client, world):
    report = submitted(world)
    for user in (world.facilitator, superuser()):
        client.force_login(user)
        page = client.get(admin_url(ActivityReport, "change", report.pk))
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.get(admin_url(ActivityReport, "add")).status_code == 403
        assert client.post(admin_url(ActivityReport, "delete", report.pk), {"post": "yes"}).status_code == 403
    assert ActivityReport.objects.filter(pk=report.pk).exists()


def test_a_committee_member_reads_but_does_not_act(client, world):
    report = submitted(world)
    client.force_login(world.committee)
    response = client.get(admin_url(ActivityReport))
    assert response.status_code == 200 and report.title in page_text(response)
    assert response.context["action_form"] is None  # no action offered
    run_action(client, ActivityReport, "accept", [report])
    report.refresh_from_db()
    assert report.status == S.SUBMITTED


def test_outputs_are_published_in_the_admin_once_their_report_is(client, world):
    report = submitted(world)
    output = services.output_add(acting_user=world.author, report=report, kind="video", title="Our video")
    client.force_login(world.facilitator)
    response = run_action(client, Output, "publish", [output])
    assert any("Publish its activity report first" in m for m in messages_of(response))
    services.report_accept(report=report, acting_user=world.facilitator)
    services.report_publish(report=report, acting_user=world.facilitator)
    output.refresh_from_db()
    assert output.is_published


def test_a_facilitator_extends_the_themes_for_their_programme_only(client, world):
    shared = LessonTheme.objects.create(code="timing", name="Timing")
    laos = LessonTheme.objects.create(
        code="laos", name="Laos theme", country_programme=world.facilitator_b.country_programme
    )
    client.force_login(world.facilitator)
    listed = page_text(client.get(admin_url(LessonTheme)))
    assert "Timing" in listed and "Laos theme" not in listed
    response = client.post(
        admin_url(LessonTheme, "add"),
        {
            "code": "rain",
            "name": "Rainy season",
            "country_programme": world.facilitator_b.country_programme_id,
            "order": 5,
        },
    )
    assert response.status_code == 200 and not LessonTheme.objects.filter(code="rain").exists()
    client.post(
        admin_url(LessonTheme, "add"),
        {"code": "rain", "name": "Rainy season", "country_programme": world.programme.pk, "order": 5},
    )
    assert LessonTheme.objects.get(code="rain").country_programme == world.programme
    assert client.get(admin_url(LessonTheme, "change", shared.pk)).status_code == 200  # read only
    response = client.post(
        admin_url(LessonTheme, "change", shared.pk), {"code": "timing", "name": "Changed", "order": 1}
    )
    assert response.status_code == 403
    assert client.get(admin_url(LessonTheme, "change", laos.pk)).status_code == 302
    shared.refresh_from_db()
    assert shared.name == "Timing"
