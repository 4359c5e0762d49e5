"""The activities rules through the services: reports only for a grant of one's own CoP, the
workflow (sent-back reports keep their text; only accepted reports are published, by a
facilitator), participants counted once, photos checked and stored privately, outputs and
lessons."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image

from activities import services, uploads
from activities.models import ActivityReport, Lesson, LessonTheme, ReportPhoto
from activities.selectors import planned_vs_delivered, reports_waiting_for
from ccop.errors import NotAllowed, RuleViolation
from tests.activities.conftest import complete, grant_for, image_bytes, leave, upload
from tests.factories import CoPFactory, ready_proposal

pytestmark = pytest.mark.django_db
S = ActivityReport.Status


def codes(exc: ValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        return {e.code for errors in exc.error_dict.values() for e in errors}
    return {e.code for e in exc.error_list}


def new_report(world, **fields):
    return services.report_create(
        grant=world.grant, acting_user=world.author, planned_activity=world.planned[0], **complete(**fields)
    )


def submitted(world, **fields):
    report = new_report(world, **fields)
    return services.report_submit(report=report, acting_user=world.author)


# --------------------------------------------------------------------------- who files


def test_staff_of_a_member_files_a_draft_for_their_cops_grant(world):
    report = new_report(
        world,
        groups={"women": 25, world.groups["pwd"]: 12},
        stakeholders=[
            ("provincial", "Department of Women's Affairs"),
            ("national", "National AIDS Authority"),
        ],
    )
    assert report.status == S.DRAFT and report.cop == world.cop and report.created_by == world.author
    assert {p.rightsholder_group.code: p.number for p in report.participants.all()} == {
        "women": 25,
        "pwd": 12,
    }
    assert [s.name for s in report.stakeholders.all()] == [
        "Department of Women's Affairs",
        "National AIDS Authority",
    ]
    assert report.history.first().history_user == world.author


@pytest.mark.parametrize("who", ["outsider", "facilitator", "facilitator_b", "committee"])
def test_nobody_else_files_a_report(world, who):
    with pytest.raises(NotAllowed):
        services.report_create(grant=world.grant, acting_user=getattr(world, who), **complete())
    assert not ActivityReport.objects.exists()


def test_staff_of_an_organisation_that_left_the_cop_no_longer_files(world):
    leave(world.author, world.cop)
    with pytest.raises(NotAllowed):
        new_report(world)


def test_a_grant_of_another_cop_is_refused_even_to_staff_of_a_cop(world):
    other, _staff = ready_proposal(cop=CoPFactory(country_programme=world.programme))
    other_grant = grant_for(other, world.facilitator)
    with pytest.raises(NotAllowed):
        services.report_create(grant=other_grant, acting_user=world.author, **complete())


def test_the_planned_activity_must_be_the_grants_and_none_needs_a_reason(world):
    other, staff = ready_proposal(cop=world.cop)
    foreign = other.activities.first()
    with pytest.raises(ValidationError) as exc:
        services.report_create(
            grant=world.grant, acting_user=world.author, planned_activity=foreign, **complete()
        )
    assert codes(exc.value) == {"other_grant"}
    with pytest.raises(ValidationError) as exc:
        services.report_create(grant=world.grant, acting_user=world.author, **complete())
    assert codes(exc.value) == {"plan_or_reason"}
    report = services.report_create(
        grant=world.grant, acting_user=world.author, no_plan_reason="The district asked for it.", **complete()
    )
    assert report.planned_activity is None


# --------------------------------------------------------------------------- participants counted once


@pytest.mark.parametrize(
    ("numbers", "code"),
    [
        ({"women": 30, "men": 15}, "genders_over_total"),
        ({"women": 20, "men": 10, "other_gender": 5, "gender_not_said": 6}, "genders_over_total"),
        ({"groups": {"pwd": 41}}, "group_over_total"),
        ({"participants_total": -1}, "negative"),
    ],
)
def test_parts_never_exceed_the_total(world, numbers, code):
    with pytest.raises(ValidationError) as exc:
        new_report(world, **numbers)
    assert code in codes(exc.value)
    assert not ActivityReport.objects.exists()


def test_groups_overlap_so_they_may_add_up_to_more_than_the_total(world):
    """A woman with a disability is in two groups; the headline total counts her once."""
    report = new_report(world, women=40, groups={"women": 40, "pwd": 12, "indigenous": 30})
    assert sum(p.number for p in report.participants.all()) == 82 > report.participants_total == 40


def test_no_part_without_a_total(world):
    with pytest.raises(ValidationError) as exc:
        new_report(world, participants_total=None, groups={"women": 3})
    assert codes(exc.value) == {"parts_without_total"}


def test_the_database_refuses_parts_over_the_total(world):
    report = new_report(world)
    for field, value in (("women", 41), ("gender_not_said", 41)):
        with pytest.raises(IntegrityError), transaction.atomic():
            ActivityReport.objects.filter(pk=report.pk).update(**{field: value})
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityReport.objects.filter(pk=report.pk).update(participants_total=None, men=3)


# --------------------------------------------------------------------------- workflow


def test_submission_lists_every_missing_piece(world):
    report = services.report_create(
        grant=world.grant,
        acting_user=world.author,
        planned_activity=world.planned[0],
        title="Draft",
        kind="workshop",
    )
    with pytest.raises(RuleViolation) as exc:
        services.report_submit(report=report, acting_user=world.author)
    assert codes(exc.value) == {
        "dates_missing",
        "place_missing",
        "description_missing",
        "participants_missing",
    }
    online = services.report_update(
        report=report, acting_user=world.author, **complete(province="", is_online=True)
    )
    assert services.report_submit(report=online, acting_user=world.colleague).status == S.SUBMITTED


def test_a_sent_back_report_keeps_its_text_and_goes_round_again(world):
    report = submitted(world, groups={"women": 25}, stakeholders=[("local", "Commune council")])
    before = {f: getattr(report, f) for f in services.REPORT_FIELDS}
    with pytest.raises(RuleViolation) as exc:
        services.report_send_back(report=report, acting_user=world.facilitator, comment="  ")
    assert codes(exc.value) == {"reason_required"}
    back = services.report_send_back(
        report=report, acting_user=world.facilitator, comment="Please add the men and the photos."
    )
    back.refresh_from_db()
    assert back.status == S.SENT_BACK
    assert {f: getattr(back, f) for f in services.REPORT_FIELDS} == before
    assert [p.number for p in back.participants.all()] == [25]
    assert [s.name for s in back.stakeholders.all()] == ["Commune council"]
    assert back.transitions.last().comment == "Please add the men and the photos."
    services.report_update(report=back, acting_user=world.author, men=10, women=25)
    again = services.report_submit(report=back, acting_user=world.author)
    assert again.status == S.SUBMITTED
    assert [t.to_status for t in again.transitions.all()] == [S.SUBMITTED, S.SENT_BACK, S.SUBMITTED]


@pytest.mark.parametrize("who", ["author", "facilitator_b", "committee", "outsider"])
def test_only_the_programmes_facilitators_review(world, who):
    report = submitted(world)
    with pytest.raises(NotAllowed):
        services.report_accept(report=report, acting_user=getattr(world, who))
    with pytest.raises(NotAllowed):
        services.report_send_back(report=report, acting_user=getattr(world, who), comment="No")
    report.refresh_from_db()
    assert report.status == S.SUBMITTED


def test_a_submitted_report_is_frozen_for_its_authors(world):
    report = submitted(world)
    with pytest.raises(RuleViolation) as exc:
        services.report_update(report=report, acting_user=world.author, title="Changed")
    assert codes(exc.value) == {"not_editable"}
    with pytest.raises(RuleViolation):
        services.photo_add(
            report=report, acting_user=world.author, upload=upload(image_bytes()), description="x"
        )


@pytest.mark.parametrize("state", ["draft", "submitted", "sent_back"])
def test_only_accepted_reports_are_published(world, state):
    report = new_report(world)
    if state != "draft":
        report = services.report_submit(report=report, acting_user=world.author)
    if state == "sent_back":
        report = services.report_send_back(report=report, acting_user=world.facilitator, comment="More")
    with pytest.raises(RuleViolation) as exc:
        services.report_publish(report=report, acting_user=world.facilitator)
    assert codes(exc.value) == {"invalid_transition"}
    report.refresh_from_db()
    assert report.status == state and report.published_at is None


def test_publishing_is_a_facilitators_act_and_is_recorded(world):
    report = services.report_accept(report=submitted(world), acting_user=world.facilitator)
    output = services.output_add(acting_user=world.author, report=report, kind="video", title="Our video")
    lesson = services.lesson_add(
        acting_user=world.author, report=report, stage="reflect", text="Timing matters."
    )
    for who in ("author", "facilitator_b"):
        with pytest.raises(NotAllowed):
            services.report_publish(report=report, acting_user=getattr(world, who))
    published = services.report_publish(report=report, acting_user=world.facilitator)
    assert published.status == S.PUBLISHED and published.published_by == world.facilitator
    assert published.published_at is not None
    output.refresh_from_db()
    lesson.refresh_from_db()
    assert output.published_by == lesson.published_by == world.facilitator
    with pytest.raises(RuleViolation):
        services.report_publish(report=published, acting_user=world.facilitator)


def test_outputs_of_an_unpublished_report_wait_for_it(world):
    report = submitted(world)
    output = services.output_add(acting_user=world.author, report=report, kind="poster", title="Poster")
    with pytest.raises(RuleViolation) as exc:
        services.result_publish(item=output, acting_user=world.facilitator)
    assert codes(exc.value) == {"report_not_published"}
    cop_level = services.output_add(acting_user=world.author, cop=world.cop, kind="article", title="Article")
    with pytest.raises(NotAllowed):
        services.result_publish(item=cop_level, acting_user=world.facilitator_b)
    assert services.result_publish(item=cop_level, acting_user=world.facilitator).published_at is not None


# --------------------------------------------------------------------------- photos


def test_a_photo_is_re_encoded_scaled_down_and_stripped_of_its_metadata(world):
    report = new_report(world)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (11.0, 33.0, 0.0)}  # GPS latitude: where the photo was taken
    photo = services.photo_add(
        report=report,
        acting_user=world.author,
        upload=upload(image_bytes(exif=exif)),
        description="Participants of the workshop",
    )
    with default_storage.open(photo.file.name) as stored:
        image = Image.open(io.BytesIO(stored.read()))
    assert image.format == "JPEG" and max(image.size) == uploads.PHOTO_LONG_SIDE
    assert (photo.width, photo.height) == (1600, 1200)
    assert not image.getexif()
    with default_storage.open(photo.thumbnail.name) as stored:
        assert max(Image.open(io.BytesIO(stored.read())).size) == uploads.THUMBNAIL_LONG_SIDE
    assert not photo.file.name.startswith(("http", "/")) and photo.file.name.startswith("activities/photos/")


def test_a_transparent_png_becomes_a_jpeg(world):
    report = new_report(world)
    photo = services.photo_add(
        report=report,
        acting_user=world.author,
        upload=upload(image_bytes("PNG", (300, 200), mode="RGBA"), "p.png", "image/png"),
        description="A poster",
    )
    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (300, 200)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a" + b"\0" * 100, "file_type"),
        (b"<html><script>alert(1)</script></html>", "file_type"),
        (b"%PDF-1.7\n", "file_type"),
        (image_bytes()[:400], "image_unreadable"),
        (b"", "file_empty"),
    ],
)
def test_what_is_not_a_photo_is_refused_and_nothing_is_stored(world, data, code, tmp_path):
    report = new_report(world)
    before = _stored_files()
    with pytest.raises(ValidationError) as exc:
        services.photo_add(report=report, acting_user=world.author, upload=upload(data), description="x")
    assert codes(exc.value) == {code}
    assert not ReportPhoto.objects.exists() and _stored_files() == before


def test_a_photo_over_the_size_limit_is_refused_before_it_is_read(world, monkeypatch):
    monkeypatch.setattr(uploads, "PHOTO_MAX_BYTES", 1000)
    with pytest.raises(ValidationError) as exc:
        services.photo_add(
            report=new_report(world), acting_user=world.author, upload=upload(image_bytes()), description="x"
        )
    assert codes(exc.value) == {"file_too_large"}


def test_a_photo_needs_words_for_people_who_cannot_see_it(world):
    with pytest.raises(RuleViolation) as exc:
        services.photo_add(
            report=new_report(world), acting_user=world.author, upload=upload(image_bytes()), description=" "
        )
    assert codes(exc.value) == {"description_required"}


def test_files_stored_by_a_transaction_that_fails_are_removed(world):
    report = new_report(world)
    before = _stored_files()
    with pytest.raises(RuntimeError), uploads.discard_on_error(), transaction.atomic():
        services.photo_add(
            report=report, acting_user=world.author, upload=upload(image_bytes()), description="a"
        )
        assert len(_stored_files()) == len(before) + 2
        raise RuntimeError("the page's next step failed")
    assert _stored_files() == before and not ReportPhoto.objects.exists()


def test_removing_a_photo_removes_its_files_after_the_commit(world, django_capture_on_commit_callbacks):
    report = new_report(world)
    photo = services.photo_add(
        report=report, acting_user=world.author, upload=upload(image_bytes()), description="a"
    )
    names = [photo.file.name, photo.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.photo_remove(photo=photo, acting_user=world.colleague)
    assert not any(default_storage.exists(n) for n in names)


def _stored_files() -> set[str]:
    try:
        return set(default_storage.listdir(uploads.PHOTO_DIR)[1])
    except FileNotFoundError:
        return set()


# --------------------------------------------------------------------------- outputs and lessons


def test_an_output_is_a_link_or_a_file(world):
    report = new_report(world)
    with pytest.raises(RuleViolation) as exc:
        services.output_add(
            acting_user=world.author,
            report=report,
            kind="report",
            title="Findings",
            url="https://example.org/x",
            upload=upload(b"%PDF-1.4\n%%EOF\n", "r.pdf", "application/pdf"),
        )
    assert codes(exc.value) == {"link_and_file"}
    with pytest.raises(ValidationError):
        services.output_add(
            acting_user=world.author, report=report, kind="video", title="V", url="not a link"
        )
    pdf = services.output_add(
        acting_user=world.author,
        report=report,
        kind="report",
        title="Findings",
        languages=["km", "en"],
        upload=upload(b"%PDF-1.4\n%%EOF\n", "r.pdf", "application/pdf"),
        findings="Schools are largely unaware of the card.",
    )
    assert pdf.file_content_type == "application/pdf" and pdf.language_list == ["km", "en"]
    with pytest.raises(ValidationError) as exc:
        services.output_add(
            acting_user=world.author,
            report=report,
            kind="report",
            title="x",
            upload=upload(b"PK\x03\x04zip", "x.docx"),
        )
    assert codes(exc.value) == {"file_type"}
    with pytest.raises(NotAllowed):
        services.output_add(acting_user=world.outsider, cop=world.cop, kind="video", title="V")


def test_lessons_take_themes_from_the_shared_list_and_the_programmes_own(world):
    shared = LessonTheme.objects.create(code="timing", name="Timing")
    own = LessonTheme.objects.create(code="rain", name="Rainy season", country_programme=world.programme)
    other = LessonTheme.objects.create(
        code="laos-only", name="Laos only", country_programme=world.facilitator_b.country_programme
    )
    report = new_report(world)
    with pytest.raises(RuleViolation):
        services.lesson_add(
            acting_user=world.author, report=report, stage="reflect", text="x", themes=[other]
        )
    lesson = services.lesson_add(
        acting_user=world.author, report=report, stage="test", text="Start early.", themes=[shared, own]
    )
    assert set(lesson.themes.all()) == {shared, own}
    with pytest.raises(ValidationError):
        services.lesson_add(acting_user=world.author, cop=world.cop, stage="guess", text="x")
    assert Lesson.objects.count() == 1


# --------------------------------------------------------------------------- reads


def test_planned_versus_delivered_counts_only_accepted_reports(world):
    first, second = world.planned
    delivered = services.report_accept(
        report=submitted(world, groups={"women": 25, "pwd": 10}), acting_user=world.facilitator
    )
    services.report_create(
        grant=world.grant,
        acting_user=world.author,
        planned_activity=second,
        **complete(participants_total=30, groups={"pwd": 30}),
    )  # a draft: not delivered yet
    extra = services.report_create(
        grant=world.grant,
        acting_user=world.author,
        no_plan_reason="Asked by the district",
        **complete(title="Extra"),
    )
    result = planned_vs_delivered(world.grant, world.facilitator)
    rows = {row.activity.pk if row.activity else None: row for row in result.rows}
    assert [r.pk for r in rows[first.pk].delivered] == [delivered.pk]
    assert rows[first.pk].actual == {world.groups["women"].pk: 25, world.groups["pwd"].pk: 10}
    assert rows[first.pk].actual_total == 40
    assert rows[second.pk].expected == {world.groups["pwd"].pk: 12, world.groups["women"].pk: 8}
    assert rows[second.pk].actual == {} and len(rows[second.pk].reports) == 1
    assert [r.pk for r in rows[None].reports] == [extra.pk]
    assert [g.code for g in result.groups] == ["pwd", "women"]
    assert rows[second.pk].cells[0][1:] == (12, None)


def test_reports_are_seen_within_the_cop_and_the_programme(world):
    report = new_report(world)
    seen = {
        who: ActivityReport.objects.visible_to(getattr(world, who)).filter(pk=report.pk).exists()
        for who in ("author", "colleague", "outsider", "facilitator", "facilitator_b", "committee")
    }
    assert seen == {
        "author": True,
        "colleague": True,
        "outsider": False,
        "facilitator": True,
        "facilitator_b": False,
        "committee": True,
    }
    assert not ActivityReport.objects.visible_to(None).exists()


def test_what_waits_for_whom(world):
    draft = new_report(world, title="Draft one")
    waiting = submitted(world, title="Waiting one")
    assert [r.pk for r in reports_waiting_for(world.colleague)["to_write"]] == [draft.pk]
    assert [r.pk for r in reports_waiting_for(world.facilitator)["to_review"]] == [waiting.pk]
    assert reports_waiting_for(world.facilitator_b)["to_review"] == []
    services.report_send_back(report=waiting, acting_user=world.facilitator, comment="Add photos")
    assert [r.pk for r in reports_waiting_for(world.author)["sent_back"]] == [waiting.pk]


def test_attaching_a_transcribed_report_to_the_grant_it_delivered(world):
    record = ActivityReport.objects.create(
        cop=world.cop, title="From the booklet", kind="workshop", source="Booklet", status=S.PUBLISHED
    )
    with pytest.raises(NotAllowed):
        services.report_attach_to_grant(
            report=record, grant=world.grant, planned_activity=world.planned[0], acting_user=world.author
        )
    services.report_attach_to_grant(
        report=record, grant=world.grant, planned_activity=world.planned[0], acting_user=world.facilitator
    )
    record.refresh_from_db()
    assert record.grant == world.grant and record.planned_activity == world.planned[0]
    with pytest.raises(RuleViolation) as exc:
        services.report_attach_to_grant(
            report=new_report(world), grant=world.grant, planned_activity=None, acting_user=world.facilitator
        )
    assert codes(exc.value) == {"not_attachable"}


def test_a_portal_report_needs_a_grant_and_dates_in_order(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityReport.objects.create(cop=world.cop, title="Orphan", kind="workshop")
    with pytest.raises(ValidationError) as exc:
        new_report(world, ends_on=datetime.date(2023, 10, 1))
    assert codes(exc.value) == {"dates_order"}
