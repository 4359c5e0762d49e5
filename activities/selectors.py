"""Reads of reports, outputs and lessons, scoped to what the person may see, in a number of
queries that does not grow with the rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from ccop.models import Membership, RightsholderGroup, User
from grants.models import Grant
from proposals.models import ExpectedParticipation, PlannedActivity
from proposals.selectors import proposals_for_user

from .models import ActivityReport, Lesson, LessonTheme, Output, ReportParticipation, ReportTransition

# Reports whose participants count as delivered on the grant page: the facilitators accepted them.
DELIVERED = (ActivityReport.Status.ACCEPTED, ActivityReport.Status.PUBLISHED)


def reports_for_user(user) -> QuerySet[ActivityReport]:
    """Every report this person may see (DESIGN rule 6); another organisation's answers 404."""
    return ActivityReport.objects.visible_to(user).select_related("cop", "grant", "planned_activity")


def grants_for_user(user) -> QuerySet[Grant]:
    """Grants whose proposal the person may see."""
    return Grant.objects.filter(proposal__in=proposals_for_user(user).values("pk")).select_related(
        "proposal__cop__country_programme", "fund"
    )


def grants_open_to_reports_by(user) -> QuerySet[Grant]:
    """Grants of CoPs the person's organisation is an active member of today (grantee staff)."""
    if not (user and user.is_authenticated and user.is_active) or user.role != User.Role.GRANTEE_STAFF:
        return Grant.objects.none()
    if not user.organisation_id:
        return Grant.objects.none()
    active = Membership.objects.filter(
        Membership.active_q(), cop_id=OuterRef("proposal__cop_id"), organisation_id=user.organisation_id
    )
    return grants_for_user(user).filter(Exists(active)).order_by("-approved_at")


def report_page(report_id: int, user) -> ActivityReport:
    """One report with everything its page shows (raises DoesNotExist outside the person's
    scope): participants by group, stakeholders, photos, outputs, lessons with their themes, and
    the workflow steps. Nine queries whatever the numbers."""
    return (
        reports_for_user(user)
        .select_related("grant__proposal", "grant__fund", "created_by", "published_by")
        .prefetch_related(
            Prefetch(
                "participants", queryset=ReportParticipation.objects.select_related("rightsholder_group")
            ),
            "stakeholders",
            "photos",
            Prefetch("outputs", queryset=Output.objects.order_by("pk")),
            Prefetch("lessons", queryset=Lesson.objects.prefetch_related("themes").order_by("pk")),
            Prefetch("transitions", queryset=ReportTransition.objects.select_related("actor")),
        )
        .get(pk=report_id)
    )


def latest_send_back(report: ActivityReport) -> ReportTransition | None:
    """The facilitator's latest reason for sending the report back (from prefetched steps)."""
    steps = [t for t in report.transitions.all() if t.to_status == ActivityReport.Status.SENT_BACK]
    return steps[-1] if steps else None


def themes_for(user) -> QuerySet[LessonTheme]:
    return LessonTheme.objects.visible_to(user)


# --------------------------------------------------------------------------- planned versus delivered


@dataclass
class PlannedRow:
    activity: PlannedActivity | None  # None: the reports that deliver no planned activity
    reports: list[ActivityReport] = field(default_factory=list)
    expected: dict[int, int] = field(default_factory=dict)  # group id -> people
    actual: dict[int, int] = field(default_factory=dict)  # group id -> people (delivered reports)
    actual_total: int | None = None  # everyone once, over the delivered reports
    cells: list[tuple[RightsholderGroup, int | None, int | None]] = field(default_factory=list)

    @property
    def delivered(self) -> list[ActivityReport]:
        return [r for r in self.reports if r.status in DELIVERED]


@dataclass
class PlannedVsDelivered:
    grant: Grant
    groups: list[RightsholderGroup]  # the groups expected or reached, in their order
    rows: list[PlannedRow]


def planned_vs_delivered(grant: Grant, user) -> PlannedVsDelivered:
    """Each planned activity of the grant's (frozen, approved) proposal with the reports that
    deliver it, the participants expected per rightsholder group and those reached per group by
    the delivered (accepted or published) reports; then the reports that deliver no planned
    activity. Reports the person may not see are left out. Five queries whatever the size."""
    activities = list(
        PlannedActivity.objects.filter(proposal_id=grant.proposal_id).prefetch_related(
            Prefetch(
                "expected_participants",
                queryset=ExpectedParticipation.objects.only("activity_id", "rightsholder_group_id", "number"),
            )
        )
    )
    reports = list(
        ActivityReport.objects.visible_to(user)
        .filter(grant=grant)
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=ReportParticipation.objects.only("report_id", "rightsholder_group_id", "number"),
            )
        )
        .order_by("starts_on", "pk")
    )
    rows = {a.pk: PlannedRow(activity=a) for a in activities}
    unplanned = PlannedRow(activity=None)
    for activity in activities:
        rows[activity.pk].expected = {
            e.rightsholder_group_id: e.number for e in activity.expected_participants.all()
        }
    actual: dict[int | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for report in reports:
        row = rows.get(report.planned_activity_id, unplanned)
        row.reports.append(report)
        if report.status in DELIVERED:
            for participation in report.participants.all():
                actual[report.planned_activity_id][participation.rightsholder_group_id] += (
                    participation.number
                )
            if report.participants_total is not None:
                row.actual_total = (row.actual_total or 0) + report.participants_total
    for key, numbers in actual.items():
        rows.get(key, unplanned).actual = dict(numbers)
    used = {g for row in [*rows.values(), unplanned] for g in (*row.expected, *row.actual)}
    groups = [g for g in RightsholderGroup.objects.all() if g.pk in used]
    result = list(rows.values())
    if unplanned.reports:
        result.append(unplanned)
    for row in result:  # (group, expected, reached) for each group expected or reached anywhere
        row.cells = [(g, row.expected.get(g.pk), row.actual.get(g.pk)) for g in groups]
    return PlannedVsDelivered(grant=grant, groups=groups, rows=result)


# --------------------------------------------------------------------------- home page


def reports_waiting_for(user) -> dict[str, list[ActivityReport]]:
    """What waits for this person: grantee staff their CoPs' drafts and sent-back reports;
    facilitators (and superusers) the submitted reports of their programme to review and the
    accepted ones to publish."""
    scoped = reports_for_user(user).filter(grant__isnull=False).order_by("-pk")
    waiting: dict[str, list[ActivityReport]] = {
        "to_write": [],
        "sent_back": [],
        "to_review": [],
        "to_publish": [],
    }
    if not (user and user.is_authenticated and user.is_active):
        return waiting
    S = ActivityReport.Status
    if user.role == User.Role.GRANTEE_STAFF and user.organisation_id:
        active = Membership.objects.filter(
            Membership.active_q(), cop_id=OuterRef("cop_id"), organisation_id=user.organisation_id
        )
        mine = list(scoped.filter(Exists(active), status__in=(S.DRAFT, S.SENT_BACK))[:50])
        waiting["to_write"] = [r for r in mine if r.status == S.DRAFT]
        waiting["sent_back"] = [r for r in mine if r.status == S.SENT_BACK]
    if user.is_superuser or user.role == User.Role.FACILITATOR:
        pending = list(scoped.filter(status__in=(S.SUBMITTED, S.ACCEPTED))[:100])
        waiting["to_review"] = [r for r in pending if r.status == S.SUBMITTED]
        waiting["to_publish"] = [r for r in pending if r.status == S.ACCEPTED]
    return waiting
