"""Reads that several places need, always scoped to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from ccop import money
from ccop.models import CoP, Membership, RightsholderGroup, User
from grants.models import Fund

from . import permissions
from .models import BudgetLine, ExpectedParticipation, PlannedActivity, Proposal, Transition

LIST_DEFERRED = ("problem_analysis", "objectives")  # long texts no list shows


def proposals_for_user(user) -> QuerySet[Proposal]:
    """Every proposal this user may see (DESIGN rule 6, `Proposal.objects.visible_to`); another
    organisation's answers 404."""
    return Proposal.objects.visible_to(user).select_related("cop", "cop__country_programme", "fund", "phase")


@dataclass
class StateGroup:
    status: str
    label: str
    count: int
    recent: list[Proposal]


def proposals_by_state(queryset: QuerySet[Proposal], per_state: int = 5) -> list[StateGroup]:
    """How many proposals of `queryset` are in each state, and the `per_state` most recently
    changed of each: two queries whatever the number of proposals (the ranking reads ids and
    states only; the few proposals shown are read after)."""
    ranked = (
        queryset.order_by()
        .annotate(
            rank=Window(
                RowNumber(), partition_by=F("status"), order_by=[F("updated_at").desc(), F("pk").desc()]
            ),
            in_state=Window(Count("pk"), partition_by=F("status")),
        )
        .filter(rank__lte=per_state)
        .values_list("pk", "status", "in_state")
    )
    counts, ids = {}, []
    for pk, status, in_state in ranked:
        counts[status] = in_state
        ids.append(pk)
    recent = defaultdict(list)
    for proposal in queryset.defer(*LIST_DEFERRED).filter(pk__in=ids).order_by("-updated_at", "-pk"):
        recent[proposal.status].append(proposal)
    return [
        StateGroup(value, label, counts[value], recent[value])
        for value, label in Proposal.Status.choices
        if counts.get(value)
    ]


def proposals_to_review(user) -> QuerySet[Proposal]:
    """Submitted and under-review proposals a committee member may review: their programme's,
    without a conflict of interest (in SQL, so the list can be paginated), oldest first."""
    if not (
        user and user.is_authenticated and (user.is_superuser or user.role == User.Role.COMMITTEE_MEMBER)
    ):
        return Proposal.objects.none()
    waiting = proposals_for_user(user).filter(
        status__in=[Proposal.Status.SUBMITTED, Proposal.Status.UNDER_REVIEW]
    )
    return permissions.without_conflicts(waiting, user).defer(*LIST_DEFERRED).order_by("submitted_at", "pk")


def revision_requests_for(user, limit: int = 10) -> list[Proposal]:
    """The proposals sent back for revision this person sees, newest first, each with the
    committee's request (`revision_reason`: the reason of its latest transition into that
    state): one query."""
    latest = Transition.objects.filter(
        proposal_id=OuterRef("pk"), to_status=Proposal.Status.REVISION_REQUESTED
    ).order_by("-at", "-pk")
    return list(
        proposals_for_user(user)
        .filter(status=Proposal.Status.REVISION_REQUESTED)
        .defer(*LIST_DEFERRED)
        .annotate(revision_reason=Subquery(latest.values("reason")[:1]))
        .order_by("-updated_at")[:limit]
    )


@dataclass
class BudgetSummary:
    """A proposal's budget, derived from its lines: never typed in, always `Decimal`."""

    fund_currency: str
    by_currency: dict[str, Decimal] = field(default_factory=dict)
    by_category: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    by_activity: dict[int | None, dict[str, Decimal]] = field(default_factory=dict)
    rates: dict[str, Decimal] = field(default_factory=dict)
    line_count: int = 0

    @property
    def missing_rates(self) -> list[str]:
        return sorted(c for c in self.by_currency if c != self.fund_currency and c not in self.rates)

    @property
    def total_in_fund_currency(self) -> Decimal | None:
        """None while a currency has no recorded rate."""
        if self.missing_rates:
            return None
        return money.total_in(self.fund_currency, self.by_currency, self.rates)

    def convert_group(self, amounts: dict[str, Decimal]) -> Decimal | None:
        try:
            return money.total_in(self.fund_currency, amounts, self.rates)
        except money.MoneyError:
            return None


def budget_summary(proposal: Proposal, lines=None, rates: dict[str, Decimal] | None = None) -> BudgetSummary:
    """Totals per currency, per category and per activity. Two queries, whatever the size.

    `lines` and `rates` may be given unsaved (an edit page's typed values) to total them instead."""
    if lines is None:
        lines = BudgetLine.objects.filter(proposal=proposal).only(
            "quantity", "unit_cost", "currency", "category", "activity_id"
        )
    if rates is None:
        rates = {r.currency: r.rate for r in proposal.exchange_rates.all()}
    by_currency: dict[str, Decimal] = defaultdict(lambda: money.ZERO)
    by_category: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: money.ZERO))
    by_activity: dict[int | None, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: money.ZERO))
    count = 0
    for line in lines:
        total = line.total
        by_currency[line.currency] += total
        by_category[line.category][line.currency] += total
        by_activity[line.activity_id][line.currency] += total
        count += 1
    return BudgetSummary(
        fund_currency=proposal.fund.currency,
        by_currency=dict(by_currency),
        by_category={k: dict(v) for k, v in by_category.items()},
        by_activity={k: dict(v) for k, v in by_activity.items()},
        rates=rates,
        line_count=count,
    )


def cops_open_to_proposals_by(user) -> QuerySet[CoP]:
    """The CoPs this person may start a proposal for: those their organisation is an active
    member of (grantee staff), or every CoP of their programme (facilitators)."""
    qs = CoP.objects.select_related("country_programme").exclude(status=CoP.Status.DISBANDED)
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_superuser or (user.role == User.Role.FACILITATOR and user.country_programme_id):
        return qs.visible_to(user)
    if user.role == User.Role.GRANTEE_STAFF and user.organisation_id:
        active = Membership.objects.filter(
            Membership.active_q(), cop_id=OuterRef("pk"), organisation_id=user.organisation_id
        )
        return qs.filter(Exists(active))
    return qs.none()


def open_funds_for(cops: QuerySet[CoP]) -> QuerySet[Fund]:
    """Funds open today in the programmes of these CoPs."""
    today = timezone.localdate()
    return (
        Fund.objects.filter(
            country_programme__in=cops.values("country_programme"), opens_on__lte=today, closes_on__gte=today
        )
        .select_related("country_programme")
        .order_by("closes_on", "name")
    )


@dataclass
class PlanData:
    """What a proposal's edit page shows, read in a fixed number of queries."""

    activities: list[PlannedActivity]
    lines: list[BudgetLine]
    groups: list[RightsholderGroup]
    rates: dict[str, Decimal]
    target_group_ids: list[int]
    has_phases: bool


def proposal_plan(proposal: Proposal) -> PlanData:
    """The proposal's activities (with expected participants), budget lines and rates: six
    queries whatever the number of rows (five when the proposal carries `cop_has_phases`)."""
    participants = ExpectedParticipation.objects.select_related("rightsholder_group")
    targeted = Proposal.target_groups.through.objects.filter(
        proposal=proposal, rightsholdergroup=OuterRef("pk")
    )
    groups = list(RightsholderGroup.objects.annotate(targeted=Exists(targeted)))
    has_phases = getattr(proposal, "cop_has_phases", None)  # annotated by the pages' query
    return PlanData(
        activities=list(
            proposal.activities.prefetch_related(Prefetch("expected_participants", queryset=participants))
        ),
        lines=list(BudgetLine.objects.filter(proposal=proposal)),
        groups=groups,
        rates={r.currency: r.rate for r in proposal.exchange_rates.all()},
        target_group_ids=[g.pk for g in groups if g.targeted],
        has_phases=proposal.cop.phases.exists() if has_phases is None else has_phases,
    )
