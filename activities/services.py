"""The activities domain API: activity reports (file, change, submit, accept, send back, publish),
their photos, outputs and lessons learned. Every way in (portal pages, admin actions, seed_demo,
the shell) calls these; each checks who may act, runs in one transaction and records who acted.

Rules kept here (DESIGN, issue 15):
- a report is filed only for a grant of the person's own CoP (`can_file_report`), and delivers
  one of the grant's planned activities or says why it delivers none;
- participants are counted once: the total is entered on its own; genders together, each
  rightsholder group and people with disabilities are parts of it ("of whom") and never exceed it
  (`report_check_participants`);
- workflow: draft → submitted → accepted | sent back (→ submitted again …); accepted → published.
  Only `_transition` changes a status; a sent-back report keeps every word (the reason is a
  transition comment);
- only accepted reports are published, and publishing is a facilitator's act (`published_at`,
  `published_by`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ccop.errors import NotAllowed, RuleViolation
from ccop.models import RightsholderGroup
from proposals.models import PlannedActivity

from . import permissions, uploads
from .models import (
    ActivityReport,
    DatePrecision,
    Lesson,
    LessonTheme,
    Output,
    ReportParticipation,
    ReportPhoto,
    ReportTransition,
    Stakeholder,
)

S = ActivityReport.Status
TRANSITIONS = {
    (S.DRAFT, S.SUBMITTED): "submit",
    (S.SENT_BACK, S.SUBMITTED): "submit",
    (S.SUBMITTED, S.ACCEPTED): "accept",
    (S.SUBMITTED, S.SENT_BACK): "send_back",
    (S.ACCEPTED, S.PUBLISHED): "publish",
}
MAX_PHOTOS = 20
MAX_STAKEHOLDERS = 50
# The report's own fields a person types (report_create / report_update).
REPORT_FIELDS = (
    "title",
    "kind",
    "planned_activity",
    "no_plan_reason",
    "starts_on",
    "ends_on",
    "date_precision",
    "is_online",
    "province",
    "place",
    "description",
    "participants_total",
    "participants_approximate",
    "women",
    "men",
    "other_gender",
    "gender_not_said",
)
PART_FIELDS = ("women", "men", "other_gender", "gender_not_said")


# --------------------------------------------------------------------------- participants


def report_check_participants(
    *,
    total: int | None,
    women: int | None = None,
    men: int | None = None,
    other_gender: int | None = None,
    gender_not_said: int | None = None,
    groups: Mapping | None = None,
) -> None:
    """Participants are counted once: `total` is every person once; the genders are a split of
    it (their sum ≤ total), and each rightsholder group is "of whom" (each ≤ total; groups may
    overlap, so their sum may exceed the total). People with disabilities are the rightsholder
    group of that name. No part without a total; no negative number.

    Raises ValidationError with a dict {field: error} (field "groups" for a group) and codes
    `negative`, `parts_without_total`, `genders_over_total`, `group_over_total`."""
    errors: dict[str, list[ValidationError]] = {}
    parts = {
        "women": women,
        "men": men,
        "other_gender": other_gender,
        "gender_not_said": gender_not_said,
    }
    groups = {key: n for key, n in (groups or {}).items() if n is not None}
    for name, value in [("participants_total", total), *parts.items()]:
        if value is not None and value < 0:
            errors.setdefault(name, []).append(
                ValidationError(_("A number of people cannot be negative."), code="negative")
            )
    if any(n < 0 for n in groups.values()):
        errors.setdefault("groups", []).append(
            ValidationError(_("A number of people cannot be negative."), code="negative")
        )
    if errors:
        raise ValidationError(errors)
    given = [name for name, value in parts.items() if value is not None]
    if total is None:
        if given or groups:
            errors["participants_total"] = [
                ValidationError(
                    _("Give the number of participants in all first: the other numbers are parts of it."),
                    code="parts_without_total",
                )
            ]
        if errors:
            raise ValidationError(errors)
        return
    genders = sum(parts[name] or 0 for name in ("women", "men", "other_gender", "gender_not_said"))
    if genders > total:
        errors["women"] = [
            ValidationError(
                _(
                    "Women, men, another identity and “preferred not to say” add up to %(sum)s, "
                    "more than the %(total)s participants in all."
                )
                % {"sum": genders, "total": total},
                code="genders_over_total",
            )
        ]
    over = [key for key, n in groups.items() if n > total]
    if over:
        names = {g.pk: g.display_name() for g in RightsholderGroup.objects.all()}
        errors["groups"] = [
            ValidationError(
                _("%(group)s: %(n)s is more than the %(total)s participants in all.")
                % {"group": names.get(getattr(key, "pk", key), key), "n": groups[key], "total": total},
                code="group_over_total",
            )
            for key in over
        ]
    if errors:
        raise ValidationError(errors)


# --------------------------------------------------------------------------- reports


def report_check(*, report: ActivityReport, groups: Mapping | None = None) -> None:
    """Every rule one report's fields must keep, saved or not: dates in order, the planned
    activity one of its grant's, a reason when it delivers none, the participants counted once.
    Raises ValidationError with a dict {field: errors}."""
    errors: dict[str, list] = {}
    if report.starts_on and report.ends_on and report.ends_on < report.starts_on:
        errors["ends_on"] = [
            ValidationError(_("An activity cannot end before it starts."), code="dates_order")
        ]
    if report.grant_id is not None:
        if report.planned_activity_id is not None:
            if report.planned_activity.proposal_id != report.grant.proposal_id:
                errors["planned_activity"] = [
                    ValidationError(_("This planned activity belongs to another grant."), code="other_grant")
                ]
        elif not report.no_plan_reason.strip():
            errors["no_plan_reason"] = [
                ValidationError(
                    _("Choose the planned activity this report delivers, or say why it delivers none."),
                    code="plan_or_reason",
                )
            ]
    try:
        report_check_participants(
            total=report.participants_total,
            women=report.women,
            men=report.men,
            other_gender=report.other_gender,
            gender_not_said=report.gender_not_said,
            groups=groups,
        )
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)


def report_submission_problems(report: ActivityReport) -> list[ValidationError]:
    """What a report still lacks before it can be submitted (empty: it can be)."""
    problems = []
    if not report.starts_on or not report.ends_on:
        problems.append(
            ValidationError(_("Give the first and last day of the activity."), code="dates_missing")
        )
    if not report.is_online and not report.province.strip():
        problems.append(
            ValidationError(_("Give the province, or say it was held online."), code="place_missing")
        )
    if not report.description.strip():
        problems.append(ValidationError(_("Say what happened."), code="description_missing"))
    if report.participants_total is None:
        problems.append(
            ValidationError(_("Give the number of participants in all."), code="participants_missing")
        )
    return problems


def _group_numbers(groups: Mapping | None) -> dict[int, int]:
    """{group id: number} from {group or id or code: number}, leaving out empty numbers."""
    result = {}
    codes = None
    for key, number in (groups or {}).items():
        if number is None:
            continue
        if isinstance(key, RightsholderGroup):
            pk = key.pk
        elif isinstance(key, int):
            pk = key
        else:
            codes = codes or dict(RightsholderGroup.objects.values_list("code", "pk"))
            if key not in codes:
                raise RuleViolation({"groups": _("Unknown rightsholder group: %(code)s") % {"code": key}})
            pk = codes[key]
        result[pk] = number
    return result


def _stakeholder_rows(stakeholders: Iterable | None) -> list[tuple[str, str]]:
    rows = []
    kinds = set(Stakeholder.Kind.values)
    for kind, name in stakeholders or ():
        name = (name or "").strip()
        if not name:
            continue
        if kind not in kinds:
            raise RuleViolation({"stakeholders": _("Unknown kind of stakeholder: %(kind)s") % {"kind": kind}})
        rows.append((kind, name[:200]))
    if len(rows) > MAX_STAKEHOLDERS:
        raise RuleViolation(
            {"stakeholders": _("At most %(max)s stakeholders per report.") % {"max": MAX_STAKEHOLDERS}}
        )
    return rows


def _write_parts(
    report: ActivityReport, groups: dict[int, int], stakeholders: list[tuple[str, str]], user
) -> None:
    existing = {p.rightsholder_group_id: p for p in report.participants.all()}
    for group_id, participation in existing.items():
        if group_id not in groups:
            participation._history_user = user
            participation.delete()
    for group_id, number in groups.items():
        participation = existing.get(group_id) or ReportParticipation(
            report=report, rightsholder_group_id=group_id
        )
        if participation.pk and participation.number == number:
            continue
        participation.number = number
        participation._history_user = user
        participation.save()
    current = [(s.kind, s.name) for s in report.stakeholders.all()]
    if current != stakeholders:
        for stakeholder in report.stakeholders.all():
            stakeholder._history_user = user
            stakeholder.delete()
        for kind, name in stakeholders:
            stakeholder = Stakeholder(report=report, kind=kind, name=name)
            stakeholder._history_user = user
            stakeholder.save()


def _assign(report: ActivityReport, fields: Mapping) -> None:
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise TypeError(f"not report fields: {sorted(unknown)}")
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip() if name != "description" else value
        setattr(report, name, value)
    if report.planned_activity_id is not None:
        report.no_plan_reason = ""


def report_create(
    *,
    grant,
    acting_user,
    groups: Mapping | None = None,
    stakeholders: Iterable | None = None,
    is_demo: bool = False,
    **fields,
) -> ActivityReport:
    """File a new draft report for `grant`. `fields` are REPORT_FIELDS (title and kind needed);
    `groups` maps rightsholder groups (objects, ids or codes) to numbers; `stakeholders` is a
    list of (kind, name). Errors: `not_allowed` (not staff of an active member of the grant's
    CoP), and report_check's."""
    if not permissions.can_file_report(acting_user, grant):
        raise NotAllowed(_("Only staff of the CoP's member organisations can report its activities."))
    with transaction.atomic():
        report = ActivityReport(
            grant=grant, cop_id=grant.proposal.cop_id, created_by=acting_user, is_demo=is_demo
        )
        _assign(report, fields)
        group_numbers = _group_numbers(groups)
        rows = _stakeholder_rows(stakeholders)
        report_check(report=report, groups=group_numbers)
        report.full_clean(exclude=["cop", "grant", "created_by"], validate_constraints=False)
        report._history_user = acting_user
        report.save()
        _write_parts(report, group_numbers, rows, acting_user)
    return report


def _locked(report: ActivityReport) -> ActivityReport:
    return (
        ActivityReport.objects.select_for_update(of=("self",))
        .select_related("cop", "grant__proposal", "planned_activity")
        .get(pk=report.pk)
    )


def report_update(
    *,
    report: ActivityReport,
    acting_user,
    groups: Mapping | None = None,
    stakeholders: Iterable | None = None,
    **fields,
) -> ActivityReport:
    """Change a draft or sent-back report (the CoP's staff). `groups` and `stakeholders`, when
    given, replace the report's. Errors: `not_editable`, `not_allowed`, report_check's."""
    with transaction.atomic():
        report = _locked(report)
        report_assert_editable(report=report, acting_user=acting_user)
        _assign(report, fields)
        group_numbers = (
            _group_numbers(groups)
            if groups is not None
            else {p.rightsholder_group_id: p.number for p in report.participants.all()}
        )
        rows = (
            _stakeholder_rows(stakeholders)
            if stakeholders is not None
            else [(s.kind, s.name) for s in report.stakeholders.all()]
        )
        report_check(report=report, groups=group_numbers)
        report.full_clean(exclude=["cop", "grant", "created_by"], validate_constraints=False)
        report._history_user = acting_user
        report.save()
        _write_parts(report, group_numbers, rows, acting_user)
    return report


def report_assert_editable(*, report: ActivityReport, acting_user) -> None:
    if report.grant_id is None or report.status not in permissions.EDITABLE:
        raise RuleViolation(
            _("This report is %(status)s and can no longer be changed.")
            % {"status": report.get_status_display().lower()},
            code="not_editable",
        )
    if not permissions.is_cop_staff(acting_user, report.cop_id):
        raise NotAllowed(_("Only staff of the CoP's member organisations can change its reports."))


def _transition(report: ActivityReport, to_status: str, acting_user, comment: str = "") -> ActivityReport:
    """The only place a report's status changes: an allowed step, recorded with who and why."""
    key = (report.status, to_status)
    if key not in TRANSITIONS:
        raise RuleViolation(
            _("A report that is %(from)s cannot be %(to)s.")
            % {"from": report.get_status_display().lower(), "to": S(to_status).label.lower()},
            code="invalid_transition",
        )
    ReportTransition.objects.create(
        report=report, from_status=report.status, to_status=to_status, actor=acting_user, comment=comment
    )
    report.status = to_status
    report._history_user = acting_user
    report._change_reason = TRANSITIONS[key]
    return report


def report_submit(*, report: ActivityReport, acting_user) -> ActivityReport:
    """The CoP's staff send the report to the facilitators. Errors: `not_editable`,
    `not_allowed`, and every missing piece (report_submission_problems) at once."""
    with transaction.atomic():
        report = _locked(report)
        report_assert_editable(report=report, acting_user=acting_user)
        problems = report_submission_problems(report)
        if problems:
            raise RuleViolation(problems)
        _transition(report, S.SUBMITTED, acting_user)
        report.submitted_at = timezone.now()
        report.save()
    return report


def _assert_facilitator(report: ActivityReport, acting_user) -> None:
    if not permissions.is_programme_facilitator(acting_user, report.cop):
        raise NotAllowed(_("Only the programme's facilitators review and publish reports."))


def report_accept(*, report: ActivityReport, acting_user, comment: str = "") -> ActivityReport:
    with transaction.atomic():
        report = _locked(report)
        _assert_facilitator(report, acting_user)
        _transition(report, S.ACCEPTED, acting_user, comment=comment.strip())
        report.save()
    return report


def report_send_back(*, report: ActivityReport, acting_user, comment: str) -> ActivityReport:
    """Back to the CoP's staff with what to change. The report keeps every word; the reason is
    recorded on the transition and shown on the report. Errors: `reason_required`."""
    comment = (comment or "").strip()
    if not comment:
        raise RuleViolation(_("Say what the CoP should change."), code="reason_required")
    with transaction.atomic():
        report = _locked(report)
        _assert_facilitator(report, acting_user)
        _transition(report, S.SENT_BACK, acting_user, comment=comment)
        report.save()
    return report


def report_publish(*, report: ActivityReport, acting_user) -> ActivityReport:
    """A facilitator publishes an accepted report, with its outputs and lessons not yet
    published. Anything but an accepted report: `invalid_transition`."""
    with transaction.atomic():
        report = _locked(report)
        _assert_facilitator(report, acting_user)
        _transition(report, S.PUBLISHED, acting_user)
        now = timezone.now()
        report.published_at, report.published_by = now, acting_user
        report.save()
        for model in (Output, Lesson):
            for item in model.objects.filter(report=report, published_at__isnull=True, source=""):
                item.published_at, item.published_by = now, acting_user
                item._history_user = acting_user
                item.save(update_fields=["published_at", "published_by"])
    return report


def report_attach_to_grant(
    *, report: ActivityReport, grant, planned_activity: PlannedActivity | None, acting_user
) -> ActivityReport:
    """Tie a report transcribed from a source (the booklet) to the grant it delivered, e.g. the
    demo's grant of its CoP. Only for a source record without a grant, a grant of the same CoP
    and a planned activity of that grant; the facilitators of the programme do it."""
    with transaction.atomic():
        report = _locked(report)
        _assert_facilitator(report, acting_user)
        if not report.source or report.grant_id is not None:
            raise RuleViolation(
                _("Only a transcribed report without a grant can be attached."), code="not_attachable"
            )
        if grant.proposal.cop_id != report.cop_id:
            raise RuleViolation(_("This grant belongs to another CoP."), code="other_cop")
        if planned_activity is not None and planned_activity.proposal_id != grant.proposal_id:
            raise RuleViolation(_("This planned activity belongs to another grant."), code="other_grant")
        report.grant, report.planned_activity = grant, planned_activity
        report._history_user = acting_user
        report.save(update_fields=["grant", "planned_activity"])
    return report


# --------------------------------------------------------------------------- photos


def photo_add(*, report: ActivityReport, acting_user, upload, description: str) -> ReportPhoto:
    """Add a photo to an editable report: checked, re-encoded without metadata and stored
    privately (`uploads.photo_store`). Errors: the upload's, `description_required`,
    `too_many_photos`, `not_editable`, `not_allowed`. Storage does not roll back: the files are
    removed again if this (or an enclosing `uploads.discard_on_error()`) transaction fails."""
    description = (description or "").strip()
    if not description:
        raise RuleViolation(
            _("Say what the photo shows, for people who cannot see it."), code="description_required"
        )
    with uploads.discard_on_error(), transaction.atomic():
        report = _locked(report)
        report_assert_editable(report=report, acting_user=acting_user)
        if report.photos.count() >= MAX_PHOTOS:
            raise RuleViolation(
                _("A report holds at most %(max)s photos.") % {"max": MAX_PHOTOS}, code="too_many_photos"
            )
        stored = uploads.photo_store(upload=upload)
        photo = ReportPhoto(
            report=report,
            file=stored.name,
            thumbnail=stored.thumbnail_name,
            description=description[:300],
            content_type=stored.content_type,
            size=stored.size,
            width=stored.width,
            height=stored.height,
            sha256=stored.sha256,
            uploaded_by=acting_user,
        )
        photo._history_user = acting_user
        photo.save()
    return photo


def photo_remove(*, photo: ReportPhoto, acting_user) -> None:
    """Remove a photo of an editable report; its files go once the removal is committed."""
    with transaction.atomic():
        report = _locked(photo.report)
        report_assert_editable(report=report, acting_user=acting_user)
        names = (photo.file.name, photo.thumbnail.name)
        photo._history_user = acting_user
        photo.delete()
        transaction.on_commit(lambda: uploads.discard(*names), robust=True)


# --------------------------------------------------------------------------- outputs and lessons


def _target(cop, report) -> tuple:
    if report is not None:
        if cop is not None and cop.pk != report.cop_id:
            raise RuleViolation(_("This activity belongs to another CoP."), code="other_cop")
        return report.cop, report
    if cop is None:
        raise TypeError("give a cop or a report")
    return cop, None


def output_add(
    *,
    acting_user,
    kind: str,
    title: str,
    cop=None,
    report: ActivityReport | None = None,
    languages: Iterable[str] = (),
    produced_on: datetime.date | None = None,
    date_precision: str = DatePrecision.DAY,
    url: str = "",
    upload=None,
    findings: str = "",
) -> Output:
    """Record an output of a CoP or of one of its activities: a link (checked for form only) or a
    file (a PDF, or an image re-encoded), not both. Errors: `not_allowed`, `link_and_file`, the
    upload's, field errors."""
    cop, report = _target(cop, report)
    if not permissions.can_add_results(acting_user, cop):
        raise NotAllowed(_("Only staff of the CoP's member organisations can add its outputs."))
    if url and upload is not None:
        raise RuleViolation(_("Give a link or a file, not both."), code="link_and_file")
    codes = [code for code in languages if code]
    unknown = set(codes) - {code for code, _label in Output.LANGUAGES}
    if unknown:
        raise RuleViolation(
            {"languages": _("Unknown language: %(codes)s") % {"codes": ", ".join(sorted(unknown))}}
        )
    output = Output(
        cop=cop,
        report=report,
        kind=kind,
        title=(title or "").strip(),
        languages=",".join(dict.fromkeys(codes)),
        produced_on=produced_on,
        date_precision=date_precision,
        url=(url or "").strip(),
        findings=findings or "",
        created_by=acting_user,
    )
    output.full_clean(exclude=["cop", "report", "created_by", "file"], validate_constraints=False)
    with uploads.discard_on_error(), transaction.atomic():
        if upload is not None:
            stored = uploads.document_store(upload=upload)
            output.file, output.file_content_type, output.file_sha256 = (
                stored.name,
                stored.content_type,
                stored.sha256,
            )
        output._history_user = acting_user
        output.save()
    return output


def lesson_add(
    *,
    acting_user,
    stage: str,
    text: str,
    cop=None,
    report: ActivityReport | None = None,
    themes: Iterable[LessonTheme] = (),
) -> Lesson:
    """Record a lesson learned by a CoP (or from one of its activities), with its stage and
    themes; themes only from those the person may see. Errors: `not_allowed`, field errors."""
    cop, report = _target(cop, report)
    if not permissions.can_add_results(acting_user, cop):
        raise NotAllowed(_("Only staff of the CoP's member organisations can add its lessons."))
    themes = list(themes)
    allowed = set(LessonTheme.objects.visible_to(acting_user).values_list("pk", flat=True))
    if any(theme.pk not in allowed for theme in themes):
        raise RuleViolation({"themes": _("Choose the themes from the list.")})
    lesson = Lesson(cop=cop, report=report, stage=stage, text=(text or "").strip(), created_by=acting_user)
    lesson.full_clean(exclude=["cop", "report", "created_by"], validate_constraints=False)
    with transaction.atomic():
        lesson._history_user = acting_user
        lesson.save()
        lesson.themes.set(themes)
    return lesson


def result_publish(*, item: Output | Lesson, acting_user) -> Output | Lesson:
    """A facilitator publishes an output or a lesson; one of an activity only once that
    activity's report is published. Errors: `not_allowed`, `already_published`,
    `report_not_published`."""
    with transaction.atomic():
        item = (
            type(item).objects.select_for_update(of=("self",)).select_related("cop", "report").get(pk=item.pk)
        )
        if not permissions.is_programme_facilitator(acting_user, item.cop):
            raise NotAllowed(_("Only the programme's facilitators publish outputs and lessons."))
        if item.is_published:
            raise RuleViolation(_("This is published already."), code="already_published")
        if item.report_id is not None and not item.report.is_published:
            raise RuleViolation(
                _("Publish its activity report first: only accepted reports are published."),
                code="report_not_published",
            )
        item.published_at, item.published_by = timezone.now(), acting_user
        item._history_user = acting_user
        item.save(update_fields=["published_at", "published_by"])
    return item
