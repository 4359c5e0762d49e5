"""The activity pages: filing a report with participants by group and photos, the refusals a
person sees (and what they keep), the facilitator's review and publication, files served only
to those who may see them, and query counts that do not grow with the rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities import services
from activities.models import ActivityReport, Lesson, LessonTheme, Output, ReportPhoto
from tests.activities.conftest import complete, image_bytes, upload

pytestmark = pytest.mark.django_db
S = ActivityReport.Status


def form_data(world, **extra) -> dict:
    data = {
        "title": "Community solidarity for women empowerment",
        "kind": "workshop",
        "planned_activity": world.planned[0].pk,
        "starts_on": "2023-10-29",
        "ends_on": "2023-10-29",
        "province": "Rattanakiri",
        "place": "Banlung",
        "description": "Each of the five rightsholder groups shared their life story.",
        "participants_total": "40",
        "women": "25",
        "men": "12",
        "group_women": "25",
        "group_pwd": "12",
        "group_indigenous": "30",
        "stakeholders-TOTAL_FORMS": "2",
        "stakeholders-INITIAL_FORMS": "0",
        "stakeholders-0-kind": "provincial",
        "stakeholders-0-name": "Department of Women's Affairs",
        "stakeholders-1-kind": "",
        "stakeholders-1-name": "",
        "photos-TOTAL_FORMS": "2",
        "photos-INITIAL_FORMS": "0",
        "photos-0-description": "Participants sharing their stories",
        "photos-1-description": "The indigenous peoples' group",
    }
    data.update(extra)
    return data


def file_report(client, world, **extra):
    data = form_data(world, **extra)
    data.setdefault("photos-0-photo", upload(image_bytes(), "one.jpg"))
    data.setdefault("photos-1-photo", upload(image_bytes("PNG", (800, 600)), "two.png", "image/png"))
    return client.post(reverse("activities:report-create", args=[world.grant.pk]), data)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --------------------------------------------------------------------------- filing


def test_staff_file_a_report_with_participants_by_group_and_two_photos(client, world):
    client.force_login(world.author)
    response = file_report(client, world)
    report = ActivityReport.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "activities:report-detail", args=[report.pk]
    )
    assert report.status == S.DRAFT and report.participants_total == 40 and report.women == 25
    assert {p.rightsholder_group.code: p.number for p in report.participants.all()} == {
        "women": 25,
        "pwd": 12,
        "indigenous": 30,
    }
    assert [p.description for p in report.photos.all()] == [
        "Participants sharing their stories",
        "The indigenous peoples' group",
    ]
    page = text(client.get(response.url))
    assert "40 participants" in page and "Department of Women&#x27;s Affairs" in page
    assert page.count('loading="lazy"') == 2 and "Submit to the facilitators" in page


def test_a_group_over_the_total_is_marked_on_its_field_and_nothing_is_lost(client, world):
    client.force_login(world.author)
    response = file_report(client, world, group_pwd="55")
    assert (
        response.status_code == 200
        and not ActivityReport.objects.exists()
        and not ReportPhoto.objects.exists()
    )
    page = response.content.decode()
    assert "People with disabilities: 55 is more than the 40 participants in all." in page
    field = re.search(r'<input[^>]*name="group_pwd"[^>]*>', page).group(0)
    assert 'value="55"' in field and 'aria-invalid="true"' in field
    assert "Each of the five rightsholder groups shared their life story." in page
    assert "Nothing you typed is lost" in page and "Choose your photos again" in page


def test_genders_over_the_total_are_refused_on_the_page(client, world):
    client.force_login(world.author)
    response = file_report(client, world, women="30", men="30")
    assert response.status_code == 200 and not ActivityReport.objects.exists()
    assert "add up to 60, more than the 40 participants in all" in response.content.decode()


def test_a_file_that_is_not_a_photo_is_refused_with_a_message(client, world):
    client.force_login(world.author)
    response = file_report(
        client, world, **{"photos-0-photo": upload(b"MZ\x90\x00 not a photo", "virus.jpg")}
    )
    assert response.status_code == 200 and not ActivityReport.objects.exists()
    assert "Send a photo as JPEG, PNG or WebP." in response.content.decode()


def test_only_the_cops_staff_reach_the_form(client, world):
    url = reverse("activities:report-create", args=[world.grant.pk])
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404  # another organisation: the grant does not exist
    client.force_login(world.facilitator)
    response = client.get(url)
    assert response.status_code == 302 and response.url == reverse(
        "activities:grant-reports", args=[world.grant.pk]
    )
    client.force_login(world.facilitator_b)
    assert client.get(url).status_code == 404


def test_a_planned_activity_of_another_grant_is_refused_in_the_form(client, world):
    from tests.activities.conftest import grant_for
    from tests.factories import ready_proposal

    other, _staff = ready_proposal(cop=world.cop)
    grant_for(other, world.facilitator)
    client.force_login(world.author)
    response = file_report(client, world, planned_activity=str(other.activities.first().pk))
    assert response.status_code == 200 and not ActivityReport.objects.exists()
    assert "Select a valid choice" in response.content.decode()


# --------------------------------------------------------------------------- the workflow on the pages


def test_sent_back_then_accepted_and_published_on_the_pages(client, world):
    client.force_login(world.author)
    file_report(client, world)
    report = ActivityReport.objects.get()
    detail = reverse("activities:report-detail", args=[report.pk])
    assert client.post(reverse("activities:report-submit", args=[report.pk])).url == detail
    client.force_login(world.facilitator)
    page = text(client.get(detail))
    assert "Review" in page and 'value="send_back"' in page
    response = client.post(
        reverse("activities:report-review", args=[report.pk]), {"decision": "send_back", "comment": ""}
    )
    report.refresh_from_db()
    assert report.status == S.SUBMITTED  # a comment is needed to send back
    client.post(
        reverse("activities:report-review", args=[report.pk]),
        {"decision": "send_back", "comment": "Please say how many men came."},
    )
    report.refresh_from_db()
    assert report.status == S.SENT_BACK
    client.force_login(world.colleague)
    page = text(client.get(detail))
    assert "Please say how many men came." in page and "Change the report" in page
    edit = client.get(reverse("activities:report-edit", args=[report.pk])).content.decode()
    assert "Each of the five rightsholder groups shared their life story." in edit  # the text is kept
    client.post(reverse("activities:report-submit", args=[report.pk]))
    client.force_login(world.facilitator)
    response = client.post(reverse("activities:report-publish", args=[report.pk]), follow=True)
    assert "A report that is submitted cannot be published." in text(response)
    client.post(reverse("activities:report-review", args=[report.pk]), {"decision": "accept", "comment": ""})
    client.post(reverse("activities:report-publish", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == S.PUBLISHED and report.published_by == world.facilitator


def test_a_submitted_report_cannot_be_changed_on_the_page(client, world):
    report = services.report_submit(
        report=services.report_create(
            grant=world.grant, acting_user=world.author, planned_activity=world.planned[0], **complete()
        ),
        acting_user=world.author,
    )
    client.force_login(world.author)
    response = client.post(
        reverse("activities:report-edit", args=[report.pk]), form_data(world, title="Changed")
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == complete()["title"]


def test_outputs_and_lessons_are_added_by_the_cops_staff(client, world):
    report = services.report_create(
        grant=world.grant, acting_user=world.author, planned_activity=world.planned[0], **complete()
    )
    theme = LessonTheme.objects.create(code="timing", name="Timing")
    client.force_login(world.colleague)
    response = client.post(
        reverse("activities:output-create", args=[report.pk]),
        {
            "kind": "video",
            "title": "Women's Voice toward Inclusive",
            "languages": ["km"],
            "url": "https://example.org/v",
        },
    )
    assert response.status_code == 302 and Output.objects.get().language_list == ["km"]
    response = client.post(
        reverse("activities:lesson-create", args=[report.pk]),
        {"stage": "reflect", "themes": [theme.pk], "text": "Tight timelines need community support."},
    )
    assert response.status_code == 302 and list(Lesson.objects.get().themes.all()) == [theme]
    client.force_login(world.facilitator)
    response = client.get(reverse("activities:output-create", args=[report.pk]))
    assert response.status_code == 302


# --------------------------------------------------------------------------- files


def test_photos_are_served_only_to_those_who_may_see_the_report(client, world):
    client.force_login(world.author)
    file_report(client, world)
    photo = ReportPhoto.objects.first()
    url = reverse("activities:photo", args=[photo.pk])
    for user in (world.colleague, world.facilitator, world.committee):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, no-cache"
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xff\xd8\xff")
        small = b"".join(client.get(url, {"size": "small"}).streaming_content)
        assert len(small) < len(body)
        etag = response["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    for user in (world.outsider, world.facilitator_b):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    assert client.get(f"/media-not-served/{photo.file.name}").status_code == 404


def test_an_output_file_is_served_as_a_download_to_those_who_may_see_it(client, world):
    report = services.report_create(
        grant=world.grant, acting_user=world.author, planned_activity=world.planned[0], **complete()
    )
    output = services.output_add(
        acting_user=world.author,
        report=report,
        kind="report",
        title="Findings",
        upload=upload(b"%PDF-1.4\n%%EOF\n", "r.pdf", "application/pdf"),
    )
    url = reverse("activities:output-file", args=[output.pk])
    client.force_login(world.facilitator)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    client.force_login(world.facilitator_b)
    assert client.get(url).status_code == 404


# --------------------------------------------------------------------------- query counts


def make_reports(world, n: int) -> list[ActivityReport]:
    """n accepted reports of the world's grant, each with groups and stakeholders."""
    reports = []
    for i in range(n):
        report = services.report_create(
            grant=world.grant,
            acting_user=world.author,
            planned_activity=world.planned[i % 2],
            groups={"women": 5, "pwd": 3},
            stakeholders=[("local", f"Commune {i}"), ("ngo", f"NGO {i}")],
            **complete(title=f"Report {i}"),
        )
        report = services.report_submit(report=report, acting_user=world.author)
        reports.append(services.report_accept(report=report, acting_user=world.facilitator))
    return reports


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.mark.parametrize("who", ["author", "facilitator"])
def test_lists_and_the_grant_page_cost_the_same_queries_at_two_sizes(
    client, world, who, django_assert_max_num_queries
):
    client.force_login(getattr(world, who))
    make_reports(world, 2)
    urls = [
        reverse("activities:report-list"),
        reverse("activities:grant-reports", args=[world.grant.pk]),
        reverse("home"),
    ]
    small = {url: queries(client, url) for url in urls}
    make_reports(world, 25)
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            assert client.get(url).status_code == 200
    assert max(small.values()) < 40, small


def test_a_report_page_costs_the_same_queries_whatever_it_holds(client, world, django_assert_max_num_queries):
    theme = LessonTheme.objects.create(code="timing", name="Timing")

    def report_with(n: int) -> ActivityReport:
        report = services.report_create(
            grant=world.grant,
            acting_user=world.author,
            planned_activity=world.planned[0],
            groups={"women": 5, "pwd": 3, "age": 2},
            stakeholders=[("local", f"Commune {i}") for i in range(n)],
            **complete(),
        )
        for i in range(n):
            services.photo_add(
                report=report,
                acting_user=world.author,
                upload=upload(image_bytes(size=(40, 30))),
                description=f"P{i}",
            )
            services.output_add(acting_user=world.author, report=report, kind="video", title=f"Video {i}")
            services.lesson_add(
                acting_user=world.author, report=report, stage="reflect", text=f"L{i}", themes=[theme]
            )
        return report

    small, large = report_with(1), report_with(12)
    for user in (world.author, world.facilitator):
        client.force_login(user)
        for name in ("activities:report-detail", "activities:report-edit"):
            if name == "activities:report-edit" and user == world.facilitator:
                continue
            baseline = queries(client, reverse(name, args=[small.pk]))
            with django_assert_max_num_queries(baseline):
                assert client.get(reverse(name, args=[large.pk])).status_code == 200
            assert baseline < 40, (name, baseline)


def test_the_forms_and_the_admin_lists_cost_the_same_queries_at_two_sizes(
    client, world, django_assert_max_num_queries
):
    from activities.models import Lesson as LessonModel
    from tests.admin_helpers import admin_url

    theme = LessonTheme.objects.create(code="timing", name="Timing")

    def grow(n):
        for report in make_reports(world, n):
            services.output_add(acting_user=world.author, report=report, kind="video", title="V")
            services.lesson_add(
                acting_user=world.author, report=report, stage="test", text="L", themes=[theme]
            )

    grow(2)
    first = ActivityReport.objects.order_by("pk").first()
    staff_urls = [
        reverse("activities:report-create", args=[world.grant.pk]),
        reverse("activities:output-create", args=[first.pk]),
        reverse("activities:lesson-create", args=[first.pk]),
    ]
    admin_urls = [admin_url(model) for model in (ActivityReport, Output, LessonModel, LessonTheme)]
    client.force_login(world.author)
    small = {url: queries(client, url) for url in staff_urls}
    client.force_login(world.facilitator)
    small.update({url: queries(client, url) for url in admin_urls})
    grow(20)
    for user, urls in ((world.author, staff_urls), (world.facilitator, admin_urls)):
        client.force_login(user)
        for url in urls:
            with django_assert_max_num_queries(small[url]):
                assert client.get(url).status_code == 200
