"""A CoP's joint proposal against a fund: narrative, applicants and their endorsements, planned
co-creation activities, the budget, reviews, the workflow's transitions and the decision.

No rule lives here beyond what one row can say: the rules are in `proposals.services`."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ccop import money
from ccop.models import CoP, CoPPhase, Organisation, RightsholderGroup

from .querysets import (
    ActivityPartQuerySet,
    CommitteeRecordQuerySet,
    ProposalPartQuerySet,
    ProposalQuerySet,
    ReviewCriterionQuerySet,
    ReviewScoreQuerySet,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


class Proposal(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        UNDER_REVIEW = "under_review", _("Under review")
        REVISION_REQUESTED = "revision_requested", _("Revision requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class BudgetOption(models.IntegerChoices):
        FACILITATOR = 1, _("Option 1: the facilitator team requests and pays expenses")
        COP_REPRESENTATIVE = (
            2,
            _("Option 2: a CoP representative requests advances and files clearances (MoU)"),
        )

    cop = models.ForeignKey(CoP, verbose_name=_("CoP"), on_delete=models.PROTECT, related_name="proposals")
    phase = models.ForeignKey(
        CoPPhase,
        verbose_name=_("phase"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    fund = models.ForeignKey(
        "grants.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="proposals"
    )
    title = models.CharField(_("title"), max_length=250)
    problem_analysis = models.TextField(_("problem analysis"), blank=True)
    objectives = models.TextField(_("objectives"), blank=True)
    target_groups = models.ManyToManyField(
        RightsholderGroup, verbose_name=_("target rightsholder groups"), blank=True, related_name="proposals"
    )
    provinces = models.CharField(_("provinces"), max_length=250, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    budget_option = models.PositiveSmallIntegerField(
        _("budget management option"), choices=BudgetOption.choices, null=True, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
        db_index=True,
    )
    revision = models.PositiveIntegerField(
        _("revision"),
        default=1,
        editable=False,
        help_text=_("Raised by every saved change; guards co-editing."),
    )
    is_demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Figures invented for the demo.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    objects = ProposalQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="proposal_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cop.name}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("admin:proposals_proposal_change", args=[self.pk])

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The project cannot end before it starts.")})
        if self.phase_id and self.cop_id and self.phase.cop_id != self.cop_id:
            raise ValidationError({"phase": _("This phase belongs to another CoP.")})

    @property
    def is_decided(self) -> bool:
        return self.status in {self.Status.APPROVED, self.Status.REJECTED}


class ExchangeRate(models.Model):
    """The rate recorded on a proposal: 1 unit of `currency` = `rate` units of the fund's currency."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="exchange_rates")
    currency = models.CharField(_("currency"), max_length=3, choices=money.CURRENCY_CHOICES)
    rate = models.DecimalField(
        _("rate to the fund's currency"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
    )
    objects = ProposalPartQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["currency"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "currency"], name="unique_rate_per_currency"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {money.format_rate(self.rate)}"


class Applicant(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="applicants")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="applications"
    )
    is_lead = models.BooleanField(_("lead applicant"), default=False)
    added_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)
    objects = ProposalPartQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_lead", "organisation__acronym"]
        verbose_name = _("applicant organisation")
        verbose_name_plural = _("applicant organisations")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "organisation"], name="unique_applicant"),
        ]

    def __str__(self) -> str:
        return self.organisation.acronym


class Endorsement(models.Model):
    """An applicant organisation's endorsement, given by one of its own staff.

    It endorses the content as it was (`content_digest`); when the content changes afterwards the
    digest no longer matches and the endorsement is void (DESIGN rule 1). Kept for the record."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="endorsements")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="endorsements"
    )
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("endorsed by"),
        on_delete=models.PROTECT,
        related_name="endorsements",
    )
    endorsed_at = models.DateTimeField(_("endorsed at"), default=timezone.now)
    content_digest = models.CharField(_("content SHA-256 when endorsed"), max_length=64)
    comment = models.TextField(_("comment"), blank=True)
    objects = ProposalPartQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-endorsed_at"]
        verbose_name = _("endorsement")
        verbose_name_plural = _("endorsements")

    def __str__(self) -> str:
        return gettext("%(organisation)s endorsed proposal %(proposal)s on %(when)s") % {
            "organisation": self.organisation.acronym,
            "proposal": self.proposal_id,
            "when": f"{self.endorsed_at:%Y-%m-%d %H:%M}",
        }


class PlannedActivity(models.Model):
    """A co-creation activity the proposal plans, with its draft agenda."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(_("title"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    is_primary = models.BooleanField(_("primary activity"), default=True)
    agenda = models.TextField(_("draft agenda"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    objects = ProposalPartQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "starts_on", "pk"]
        verbose_name = _("planned activity")
        verbose_name_plural = _("planned activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="activity_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("An activity cannot end before it starts.")})


class ExpectedParticipation(models.Model):
    activity = models.ForeignKey(
        PlannedActivity, on_delete=models.CASCADE, related_name="expected_participants"
    )
    rightsholder_group = models.ForeignKey(RightsholderGroup, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(_("expected participants"))
    objects = ActivityPartQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["rightsholder_group__order"]
        verbose_name = _("expected participants")
        verbose_name_plural = _("expected participants")
        constraints = [
            models.UniqueConstraint(fields=["activity", "rightsholder_group"], name="unique_expected_group"),
        ]

    def __str__(self) -> str:
        return f"{self.number} × {self.rightsholder_group}"


class BudgetLine(models.Model):
    class Category(models.TextChoices):
        PERSONNEL = "personnel", _("Personnel and facilitation")
        TRAVEL = "travel", _("Travel and transport")
        VENUE = "venue", _("Venue and equipment")
        MEALS = "meals", _("Meals and refreshments")
        MATERIALS = "materials", _("Materials and supplies")
        COMMUNICATION = "communication", _("Communication and amplification")
        OTHER = "other", _("Other")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="budget_lines")
    activity = models.ForeignKey(
        PlannedActivity,
        verbose_name=_("activity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="budget_lines",
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    description = models.CharField(_("description"), max_length=250)
    unit = models.CharField(_("unit"), max_length=40)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=money.CURRENCY_CHOICES)
    order = models.PositiveIntegerField(_("order"), default=0)
    objects = ProposalPartQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="budget_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="budget_unit_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({money.format_money(self.total, self.currency)})"

    def clean(self) -> None:
        if self.activity_id and self.proposal_id and self.activity.proposal_id != self.proposal_id:
            raise ValidationError({"activity": _("This activity belongs to another proposal.")})

    @property
    def total(self) -> Decimal:
        if self.quantity is None or self.unit_cost is None:
            return money.ZERO
        return money.line_total(self.quantity, self.unit_cost)


class Transition(models.Model):
    """One step of the workflow: who moved the proposal from which state to which, when and why."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(_("from"), max_length=20, choices=Proposal.Status.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=Proposal.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)
    objects = ProposalPartQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class ProposalVersion(models.Model):
    """The content as it was at each submission, so applicants and the committee can see what
    changed between versions."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("content"))
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    objects = ProposalPartQuerySet.as_manager()

    class Meta:
        ordering = ["proposal", "number"]
        verbose_name = _("submitted version")
        verbose_name_plural = _("submitted versions")
        constraints = [models.UniqueConstraint(fields=["proposal", "number"], name="unique_proposal_version")]

    def __str__(self) -> str:
        return f"{self.proposal_id} v{self.number}"


class ReviewCriterion(models.Model):
    """A criterion the fund's committee scores every proposal on."""

    fund = models.ForeignKey("grants.Fund", on_delete=models.CASCADE, related_name="review_criteria")
    name = models.CharField(_("criterion"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    max_score = models.PositiveSmallIntegerField(_("highest score"), default=5)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    objects = ReviewCriterionQuerySet.as_manager()

    class Meta:
        ordering = ["fund", "order", "pk"]
        verbose_name = _("review criterion")
        verbose_name_plural = _("review criteria")
        constraints = [
            models.UniqueConstraint(fields=["fund", "name"], name="unique_criterion_per_fund"),
            models.CheckConstraint(condition=Q(max_score__gte=1), name="criterion_max_score_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (0–{self.max_score})"


class Review(models.Model):
    class Recommendation(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REVISE = "revise", _("Revise")
        REJECT = "reject", _("Reject")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    score = models.PositiveSmallIntegerField(_("overall score (0–10)"), null=True, blank=True)
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    objects = CommitteeRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "reviewer"], name="one_review_per_reviewer"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="review_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.proposal_id}: {self.get_recommendation_display()}"


class ReviewScore(models.Model):
    review = models.ForeignKey("Review", on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ReviewCriterion, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField(_("score"))
    objects = ReviewScoreQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["criterion__order", "criterion__pk"]
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="one_score_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion.name}: {self.score}"


class ConflictDeclaration(models.Model):
    """A committee member declaring a conflict of interest on a proposal (DESIGN rule 5)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="conflicts")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conflicts")
    reason = models.TextField(_("reason"))
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)
    objects = CommitteeRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [models.UniqueConstraint(fields=["proposal", "member"], name="one_conflict_per_member")]

    def __str__(self) -> str:
        return f"{self.member} on {self.proposal_id}"


class Decision(models.Model):
    """The committee's decision. An approval carries the frozen approved version of the proposal
    (narrative, applicants, endorsements, activities, budget) and its SHA-256."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    amount = models.DecimalField(_("approved amount"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=money.CURRENCY_CHOICES)
    reasons = models.TextField(_("reasons"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions"
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    approved_version = models.JSONField(_("approved version"), null=True, blank=True, editable=False)
    approved_version_sha256 = models.CharField(_("approved version SHA-256"), max_length=64, blank=True)
    objects = ProposalPartQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="rejected") | Q(amount__gt=0), name="approval_has_positive_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.proposal}"
