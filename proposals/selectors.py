"""Reads that several places need, always scoped to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from ccop import money
from ccop.models import CoP, Membership, RightsholderGroup, User
from grants.models import Fund

from .models import BudgetLine, ExpectedParticipation, PlannedActivity, Proposal
from .permissions import APPLICANT_EDITABLE, has_conflict


def proposals_for_user(user) -> QuerySet[Proposal]:
    """Every proposal this user may see (DESIGN rule 6, `Proposal.objects.visible_to`); another
    organisation's answers 404."""
    return Proposal.objects.visible_to(user).select_related("cop", "cop__country_programme", "fund", "phase")


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
    """The proposal's activities (with expected participants), budget lines and rates: seven
    queries whatever the number of rows."""
    participants = ExpectedParticipation.objects.select_related("rightsholder_group")
    return PlanData(
        activities=list(
            proposal.activities.prefetch_related(Prefetch("expected_participants", queryset=participants))
        ),
        lines=list(BudgetLine.objects.filter(proposal=proposal)),
        groups=list(RightsholderGroup.objects.all()),
        rates={r.currency: r.rate for r in proposal.exchange_rates.all()},
        target_group_ids=list(proposal.target_groups.values_list("pk", flat=True)),
        has_phases=proposal.cop.phases.exists(),
    )


# --------------------------------------------------------------------------- home page


def proposals_for_home(user) -> list[Proposal]:
    """The person's proposals with what the home page reads of each, newest change first."""
    return list(
        proposals_for_user(user)
        .prefetch_related("applicants__organisation", "transitions")
        .order_by("-updated_at")
    )


def proposals_waiting_for_endorsement(user, proposals) -> list[Proposal]:
    """Editable proposals that list the person's organisation as an applicant and have no valid
    endorsement from it (rule 1: a change since voids the earlier one)."""
    from .services import valid_endorsement_organisation_ids  # services import this module

    if not user.organisation_id:
        return []
    return [
        proposal
        for proposal in proposals
        if proposal.status in APPLICANT_EDITABLE
        and user.organisation_id in {a.organisation_id for a in proposal.applicants.all()}
        and user.organisation_id not in valid_endorsement_organisation_ids(proposal)
    ]


def revision_requests(proposals) -> list[tuple[Proposal, object]]:
    """Proposals sent back for revision, each with the transition that sent it back."""
    return [
        (p, next((t for t in reversed(p.transitions.all()) if t.to_status == p.status), None))
        for p in proposals
        if p.status == Proposal.Status.REVISION_REQUESTED
    ]


def proposals_to_review_by(user, proposals) -> list[Proposal]:
    """Submitted or under-review proposals a committee member (or superuser) may review: no
    conflict of interest (rule 5)."""
    if not (user.is_committee_member or user.is_superuser):
        return []
    waiting = [p for p in proposals if p.status == Proposal.Status.SUBMITTED] + [
        p for p in proposals if p.status == Proposal.Status.UNDER_REVIEW
    ]
    return [p for p in waiting if not has_conflict(user, p)]
