"""The committee's and facilitators' admin. Every change goes through `proposals.services`:
forms call the service's checks to show errors on the page, and `save_*` and the actions call
the services, which check again. A refusal is an admin error message, never a 500."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ccop import money
from ccop.admin import RelatedOnlyFiltersMixin
from ccop.audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped

from . import permissions, services
from .admin_export import ExportWithFiltersMixin
from .models import (
    Applicant,
    BudgetLine,
    ConflictDeclaration,
    Decision,
    Endorsement,
    ExchangeRate,
    ExpectedParticipation,
    PlannedActivity,
    Proposal,
    Review,
    ReviewCriterion,
    ReviewScore,
    Transition,
)
from .resources import BudgetLineResource, ProposalResource
from .selectors import budget_summary, proposals_for_user


class ReadOnlyAdminMixin:
    """Records written only by the services: visible, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProposalChildInlineMixin:
    """Inlines of a proposal follow the proposal's freeze: no add, change or delete unless the
    person may edit the proposal now."""

    extra = 0

    def _editable(self, request, obj):
        return obj is None or permissions.can_edit_proposal(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)


class ApplicantInline(ProposalChildInlineMixin, admin.TabularInline):
    model = Applicant
    autocomplete_fields = ["organisation"]


class RateFieldMixin:
    """The rate refuses what no rate between the portal's currencies comes near, as the portal's
    page and `exchange_rate_set` do (`money.MAX_RATE`)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "rate":
            kwargs["max_value"] = money.MAX_RATE
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ExchangeRateInline(RateFieldMixin, ProposalChildInlineMixin, admin.TabularInline):
    model = ExchangeRate


class PlannedActivityInline(ProposalChildInlineMixin, admin.StackedInline):
    model = PlannedActivity
    fields = [("title", "is_primary", "order"), ("starts_on", "ends_on", "place"), "description", "agenda"]
    show_change_link = True


class BudgetLineInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form) or not form.cleaned_data:
                continue
            try:
                services.budget_line_validate(proposal=self.instance, line=form.instance)
            except ValidationError as exc:
                form.add_error(None, exc)


class BudgetLineInline(ProposalChildInlineMixin, admin.TabularInline):
    model = BudgetLine
    formset = BudgetLineInlineFormSet
    fields = [
        "activity",
        "category",
        "description",
        "unit",
        "quantity",
        "unit_cost",
        "currency",
        "line_total",
    ]
    readonly_fields = ["line_total"]

    @admin.display(description=_("total"))
    def line_total(self, obj):
        return money.format_money(obj.total, obj.currency) if obj.pk else "–"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "activity":
            proposal_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = PlannedActivity.objects.filter(proposal_id=proposal_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class EndorsementInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Endorsement
    fields = ["organisation", "endorsed_by", "endorsed_at", "still_valid"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("valid for the current content"), boolean=True)
    def still_valid(self, obj):
        return obj.content_digest == self.current_digest

    def get_formset(self, request, obj=None, **kwargs):
        self.current_digest = services.proposal_content_digest(obj) if obj else ""
        return super().get_formset(request, obj, **kwargs)


class TransitionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Transition
    fields = ["from_status", "to_status", "actor", "at", "reason"]
    readonly_fields = fields
    extra = 0


class ProposalAdminForm(forms.ModelForm):
    class Meta:
        model = Proposal
        fields = [
            "cop", "phase", "fund", "title", "is_demo", "problem_analysis", "objectives",
            "target_groups", "provinces", "starts_on", "ends_on", "budget_option",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        user = self.request_user
        try:
            if self.instance.pk:
                services.proposal_assert_editable(proposal=self.instance, acting_user=user)
            elif cleaned.get("cop") and cleaned.get("fund"):
                services.proposal_check_create(cop=cleaned["cop"], fund=cleaned["fund"], acting_user=user)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason / comment"),
        widget=forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField"}),
        required=True,
    )
    amount = forms.DecimalField(
        label=_("Amount in the fund's currency (optional)"),
        help_text=_(
            "Approving: the budget's total you reviewed (refused if the budget changed since). "
            "Requesting a revision: the amount the committee could fund."
        ),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=0,
    )


def _run(modeladmin, request, queryset, label, call):
    """Apply a service to each selected proposal; report each refusal in plain words."""
    done = 0
    for proposal in queryset:
        try:
            call(proposal)
            done += 1
        except ValidationError as exc:
            modeladmin.message_user(
                request, f"{proposal.title}: {' '.join(exc.messages)}", level=messages.ERROR
            )
    if done:
        modeladmin.message_user(
            request,
            ngettext("%(label)s: %(n)d proposal.", "%(label)s: %(n)d proposals.", done)
            % {"label": label, "n": done},
            level=messages.SUCCESS,
        )


def _with_reason(modeladmin, request, queryset, action, title, call):
    """Ask for the reason (and optional amount) on an intermediate page, then apply."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        _run(modeladmin, request, queryset, title, lambda p: call(p, form.cleaned_data))
        return None
    return TemplateResponse(
        request,
        "admin/proposals/reason_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": action,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


DECISIONS = {
    "start_review": (_("Start review"), False),
    "request_revision": (_("Request revision"), True),
    "approve": (_("Approve"), True),
    "reject": (_("Reject"), True),
}
DECISION_FROM = {
    "start_review": {Proposal.Status.SUBMITTED},
    "request_revision": {Proposal.Status.UNDER_REVIEW},
    "approve": {Proposal.Status.UNDER_REVIEW},
    "reject": {Proposal.Status.UNDER_REVIEW},
}


def _decision_context(user, proposal: Proposal) -> dict:
    """What the committee sees where it decides: the decisions this person may take now, the
    amount requested and the fund's ceiling, approved total and remaining balance."""
    may_decide = permissions.can_decide_proposal(user, proposal)
    fund = proposal.fund
    requested = budget_summary(proposal).total_in_fund_currency
    return {
        "decisions": {
            name: DECISIONS[name][0]
            for name, states in DECISION_FROM.items()
            if may_decide and proposal.status in states
        },
        "has_conflict": permissions.has_conflict(user, proposal),
        "may_review": may_decide
        and proposal.status in (Proposal.Status.SUBMITTED, Proposal.Status.UNDER_REVIEW),
        "fund_figures": [
            (
                _("Requested"),
                money.format_money(requested, fund.currency) if requested is not None else _("rate missing"),
            ),
            (_("Fund ceiling"), money.format_money(fund.ceiling, fund.currency)),
            (_("Approved so far"), money.format_money(fund.approved_total(), fund.currency)),
            (_("Remaining"), money.format_money(fund.remaining(), fund.currency)),
            *(
                [(_("Cap per proposal"), money.format_money(fund.per_proposal_cap, fund.currency))]
                if fund.per_proposal_cap
                else []
            ),
        ],
    }


def _apply_decision(decision: str, proposal: Proposal, user, data: dict):
    if decision == "start_review":
        return services.proposal_start_review(proposal=proposal, acting_user=user)
    if decision == "request_revision":
        return services.proposal_request_revision(
            proposal=proposal, acting_user=user, comment=data["reason"], amount=data["amount"]
        )
    if decision == "approve":
        return services.proposal_approve(
            proposal=proposal, acting_user=user, reasons=data["reason"], amount=data["amount"]
        )
    return services.proposal_reject(proposal=proposal, acting_user=user, reason=data["reason"])


@admin.register(Proposal)
class ProposalAdmin(ExportWithFiltersMixin, RelatedOnlyFiltersMixin, SimpleHistoryAdmin):
    resource_classes = [ProposalResource]
    form = ProposalAdminForm
    list_display = [
        "title",
        "cop",
        "fund",
        "status",
        "applicant_list",
        "requested",
        "days_waiting",
        "is_demo",
    ]
    list_filter = ["status", "fund", "cop", "cop__rightsholder_groups", "cop__country_programme", "is_demo"]
    search_fields = [
        "title",
        "cop__name",
        "applicants__organisation__acronym",
        "applicants__organisation__name",
    ]
    autocomplete_fields = ["cop"]
    filter_horizontal = ["target_groups"]
    readonly_fields = ["status", "revision", "created_by", "created_at", "submitted_at", "budget_totals"]
    inlines = [
        ApplicantInline,
        ExchangeRateInline,
        PlannedActivityInline,
        BudgetLineInline,
        EndorsementInline,
        TransitionInline,
    ]
    actions = ["submit", "start_review", "request_revision", "approve", "reject", "withdraw"]
    fieldsets = [
        (None, {"fields": ["cop", "phase", "fund", "title", "status", "revision", "is_demo"]}),
        (
            _("Narrative"),
            {
                "fields": [
                    "problem_analysis",
                    "objectives",
                    "target_groups",
                    "provinces",
                    ("starts_on", "ends_on"),
                ]
            },
        ),
        (_("Budget"), {"fields": ["budget_option", "budget_totals"]}),
        (_("Record"), {"fields": ["created_by", "created_at", "submitted_at"]}),
    ]

    def get_queryset(self, request):
        visible = proposals_for_user(request.user).values("pk")
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=visible)  # a facilitator of another programme sees none of it
            .select_related("cop", "fund", "created_by")
            .prefetch_related("applicants__organisation", "budget_lines", "exchange_rates")
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, _dup = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # CoP and fund are chosen once, at creation (proposal_check_create: same programme, open)
        return [*fields, "cop", "fund"] if obj is not None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    @admin.display(description=_("applicants"))
    def applicant_list(self, obj):
        return ", ".join(a.organisation.acronym for a in obj.applicants.all())

    @admin.display(description=_("requested"))
    def requested(self, obj):
        total = budget_summary(obj, lines=obj.budget_lines.all()).total_in_fund_currency
        return money.format_money(total, obj.fund.currency) if total is not None else _("rate missing")

    @admin.display(description=_("budget"))
    def budget_totals(self, obj):
        if not obj.pk:
            return "–"
        summary = budget_summary(obj)
        parts = [money.format_money(v, k) for k, v in sorted(summary.by_currency.items())]
        total = summary.total_in_fund_currency
        fund = obj.fund
        parts.append(
            _("Total %(total)s. Fund ceiling %(ceiling)s, approved %(approved)s, remaining %(remaining)s.")
            % {
                "total": money.format_money(total, fund.currency)
                if total is not None
                else _("(rate missing)"),
                "ceiling": money.format_money(fund.ceiling, fund.currency),
                "approved": money.format_money(fund.approved_total(), fund.currency),
                "remaining": money.format_money(fund.remaining(), fund.currency),
            }
        )
        return " · ".join(str(p) for p in parts)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not permissions.can_edit_proposal(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (
            obj.status != Proposal.Status.DRAFT or not permissions.can_edit_proposal(request.user, obj)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            services.proposal_record_edit(proposal=obj, acting_user=request.user)
        else:
            services.proposal_check_create(cop=obj.cop, fund=obj.fund, acting_user=request.user)
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if change and formset.has_changed():
            services.proposal_record_edit(proposal=form.instance, acting_user=request.user)
        super().save_formset(request, form, formset, change)

    @admin.display(description=_("days waiting"), ordering="submitted_at")
    def days_waiting(self, obj):
        """Days since submission, while the committee has not decided."""
        if (
            obj.status not in (Proposal.Status.SUBMITTED, Proposal.Status.UNDER_REVIEW)
            or not obj.submitted_at
        ):
            return "–"
        return (timezone.now() - obj.submitted_at).days

    def get_actions(self, request):
        actions = super().get_actions(request)
        user = request.user
        if not (user.is_superuser or user.is_committee_member):
            for name in DECISIONS:
                actions.pop(name, None)
        if not (user.is_superuser or user.is_facilitator):
            for name in ("submit", "withdraw"):
                actions.pop(name, None)
        return actions

    # ----- decisions on the change page: offered only to who may decide this proposal

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_view),
                name="proposals_proposal_decide",
            )
        ]
        return extra + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if proposal is not None:
            extra_context.update(_decision_context(request.user, proposal))
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, object_id, decision):
        proposal = self.get_object(request, object_id)  # scoped: another programme's is 404
        if proposal is None or decision not in DECISIONS:
            raise Http404
        context = _decision_context(request.user, proposal)
        if decision not in context["decisions"]:
            if permissions.has_conflict(request.user, proposal):
                messages.error(
                    request,
                    _("You have a conflict of interest on this proposal: you cannot review or decide it."),
                )
            else:
                messages.error(request, _("This decision is not possible for this proposal now."))
            return redirect("admin:proposals_proposal_change", proposal.pk)
        label, needs_reason = DECISIONS[decision]
        form = ReasonForm(request.POST or None)
        if not needs_reason:
            form.fields["reason"].required = False
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                _apply_decision(decision, proposal, request.user, data)
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, f"{label}: {proposal.title}")
                return redirect("admin:proposals_proposal_change", proposal.pk)
        return TemplateResponse(
            request,
            "admin/proposals/decide.html",
            {
                **self.admin_site.each_context(request),
                **context,
                "title": f"{label}: {proposal.title}",
                "label": label,
                "form": form,
                "proposal": proposal,
                "opts": self.model._meta,
                "original": proposal,
            },
        )

    # ----- workflow actions: each goes through the domain API

    @admin.action(description=_("Submit (checks the two-grantee rule and the fund)"))
    def submit(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            _("Submitted"),
            lambda p: services.proposal_submit(proposal=p, acting_user=request.user),
        )

    @admin.action(description=_("Start review"))
    def start_review(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            _("Review started"),
            lambda p: services.proposal_start_review(proposal=p, acting_user=request.user),
        )

    @admin.action(description=_("Request revision (with a comment)"))
    def request_revision(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            "request_revision",
            _("Revision requested"),
            lambda p, d: services.proposal_request_revision(
                proposal=p, acting_user=request.user, comment=d["reason"], amount=d["amount"]
            ),
        )

    @admin.action(description=_("Approve (creates the grant)"))
    def approve(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            "approve",
            _("Approved"),
            lambda p, d: services.proposal_approve(
                proposal=p, acting_user=request.user, reasons=d["reason"], amount=d["amount"]
            ),
        )

    @admin.action(description=_("Reject (with the reason)"))
    def reject(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            "reject",
            _("Rejected"),
            lambda p, d: services.proposal_reject(proposal=p, acting_user=request.user, reason=d["reason"]),
        )

    @admin.action(description=_("Withdraw"))
    def withdraw(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            _("Withdrawn"),
            lambda p: services.proposal_withdraw(proposal=p, acting_user=request.user),
        )


class ProposalScopedAdminMixin(RelatedOnlyFiltersMixin):
    """Records of a proposal are listed only where the proposal itself is visible."""

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(proposal__in=proposals_for_user(request.user).values("pk"))
        )


class ProposalChildAdmin(ProposalScopedAdminMixin, SimpleHistoryAdmin):
    """A proposal's child edited on its own page: same freeze and revision as the inlines."""

    def _editable(self, request, obj):
        return obj is None or permissions.can_edit_proposal(request.user, obj.proposal)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class GuardedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                proposal = cleaned.get("proposal") or getattr(self.instance, "proposal", None)
                if proposal is not None:
                    try:
                        services.proposal_assert_editable(proposal=proposal, acting_user=user)
                    except ValidationError as exc:
                        raise forms.ValidationError(exc.messages) from exc
                return cleaned

        return GuardedForm

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            services.proposal_record_edit(proposal=obj.proposal, acting_user=request.user)
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with transaction.atomic():
            services.proposal_record_edit(proposal=obj.proposal, acting_user=request.user)
            super().delete_model(request, obj)


@admin.register(BudgetLine)
class BudgetLineAdmin(ExportWithFiltersMixin, ProposalChildAdmin):
    resource_classes = [BudgetLineResource]
    list_display = [
        "description",
        "proposal",
        "category",
        "quantity",
        "unit_cost",
        "currency",
        "total_display",
    ]
    list_filter = ["category", "currency", "proposal__fund", "proposal__status"]
    search_fields = ["description", "proposal__title", "proposal__cop__name"]
    autocomplete_fields = ["proposal"]
    list_select_related = ["proposal__cop"]

    @admin.display(description=_("total"))
    def total_display(self, obj):
        return money.format_money(obj.total, obj.currency)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class BudgetLineForm(form_class):
            def _post_clean(self):
                super()._post_clean()  # the instance carries the posted values from here on
                proposal = self.cleaned_data.get("proposal") or getattr(self.instance, "proposal", None)
                if proposal is not None and not self.errors:
                    try:
                        services.budget_line_validate(proposal=proposal, line=self.instance)
                    except ValidationError as exc:
                        self.add_error(None, exc)

        return BudgetLineForm

    def save_model(self, request, obj, form, change):
        services.budget_line_validate(proposal=obj.proposal, line=obj)
        super().save_model(request, obj, form, change)


class ExpectedParticipationInline(admin.TabularInline):
    model = ExpectedParticipation
    extra = 0


@admin.register(PlannedActivity)
class PlannedActivityAdmin(ProposalChildAdmin):
    list_display = ["title", "proposal", "starts_on", "ends_on", "place", "is_primary"]
    list_filter = ["is_primary", "proposal__cop"]
    search_fields = ["title", "place", "proposal__title"]
    autocomplete_fields = ["proposal"]
    list_select_related = ["proposal__cop"]
    inlines = [ExpectedParticipationInline]

    def save_formset(self, request, form, formset, change):
        if formset.has_changed():
            services.proposal_record_edit(proposal=form.instance.proposal, acting_user=request.user)
        super().save_formset(request, form, formset, change)


@admin.register(Applicant)
class ApplicantAdmin(ProposalChildAdmin):
    list_display = ["organisation", "proposal", "is_lead", "added_at"]
    list_filter = ["is_lead", "proposal__cop"]
    search_fields = ["organisation__acronym", "proposal__title"]
    autocomplete_fields = ["proposal", "organisation"]
    list_select_related = ["organisation", "proposal__cop"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(RateFieldMixin, ProposalChildAdmin):
    list_display = ["proposal", "currency", "rate"]
    list_filter = ["currency"]
    search_fields = ["proposal__title"]
    autocomplete_fields = ["proposal"]
    list_select_related = ["proposal__cop"]


@admin.register(ExpectedParticipation)
class ExpectedParticipationAdmin(RelatedOnlyFiltersMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["activity", "rightsholder_group", "number"]
    list_filter = ["rightsholder_group"]
    list_select_related = ["activity", "rightsholder_group"]

    def get_queryset(self, request):
        visible = proposals_for_user(request.user).values("pk")
        return super().get_queryset(request).filter(activity__proposal__in=visible)


@admin.register(Endorsement)
class EndorsementAdmin(ProposalScopedAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Endorsements are given by an organisation's own staff in the portal, never here."""

    list_display = ["organisation", "proposal", "endorsed_by", "endorsed_at"]
    list_filter = ["organisation"]
    search_fields = ["organisation__acronym", "proposal__title"]
    list_select_related = ["organisation", "proposal__cop", "endorsed_by"]


@admin.register(Transition)
class TransitionAdmin(ProposalScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["proposal", "from_status", "to_status", "actor", "at"]
    list_filter = ["to_status", "from_status"]
    search_fields = ["proposal__title", "reason"]
    date_hierarchy = "at"
    list_select_related = ["proposal__cop", "actor"]


@admin.register(Decision)
class DecisionAdmin(ProposalScopedAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "proposal",
        "outcome",
        "amount",
        "currency",
        "decided_by",
        "decided_at",
        "approved_version_sha256",
    ]
    list_filter = ["outcome"]
    search_fields = ["proposal__title", "reasons"]
    list_select_related = ["proposal__cop", "decided_by"]


@admin.register(Review)
class ReviewAdmin(ProposalScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["proposal", "reviewer", "recommendation", "score", "created_at"]
    list_filter = ["recommendation"]
    search_fields = ["proposal__title", "comment"]
    list_select_related = ["proposal__cop", "reviewer"]
    fields = ["proposal", "recommendation", "score", "comment"]
    autocomplete_fields = ["proposal"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def _criteria(self, request):
        """The criteria of the fund of the proposal being reviewed (?proposal= or the posted one)."""
        proposal_id = request.POST.get("proposal") or request.GET.get("proposal")
        if not str(proposal_id or "").isdigit():
            return []
        return list(ReviewCriterion.objects.filter(fund__proposals__pk=proposal_id))

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = self.fields  # the criterion fields are the form's own, not the model's
        form_class = super().get_form(request, obj, change=change, **kwargs)
        user = request.user
        criteria = self._criteria(request) if obj is None else []

        class ReviewForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                for criterion in criteria:
                    self.fields[f"criterion_{criterion.pk}"] = forms.IntegerField(
                        label=criterion.name,
                        min_value=0,
                        max_value=criterion.max_score,
                        help_text=criterion.guidance or _("From 0 to %(max)s") % {"max": criterion.max_score},
                    )

            def clean(self):
                cleaned = super().clean()
                if cleaned.get("proposal"):
                    try:
                        services.review_check(proposal=cleaned["proposal"], reviewer=user)
                    except ValidationError as exc:
                        raise forms.ValidationError(exc.messages) from exc
                return cleaned

            def criterion_scores(self):
                return {c: self.cleaned_data[f"criterion_{c.pk}"] for c in criteria}

            def validate_unique(self):
                pass  # a second review by the same member updates the first (service)

        return ReviewForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        criteria = self._criteria(request) if obj is None else []
        if criteria:
            fieldsets = [
                *fieldsets,
                (_("Scores on the fund's criteria"), {"fields": [f"criterion_{c.pk}" for c in criteria]}),
            ]
        return fieldsets

    def get_inlines(self, request, obj):
        return [ReviewScoreInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        review = services.review_record(
            proposal=obj.proposal,
            reviewer=request.user,
            recommendation=obj.recommendation,
            comment=obj.comment,
            score=obj.score,
            scores=form.criterion_scores() if hasattr(form, "criterion_scores") else None,
        )
        obj.pk, obj.reviewer = review.pk, review.reviewer  # the admin's log entry names the review

    def save_related(self, request, form, formsets, change):
        pass  # the service saved the scores


class ReviewScoreInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReviewScore
    fields = ["criterion", "score"]
    readonly_fields = fields
    extra = 0


@admin.register(ReviewCriterion)
class ReviewCriterionAdmin(RelatedOnlyFiltersMixin, admin.ModelAdmin):
    """The criteria of the funds of the person's own programme (the funds FundAdmin shows)."""

    list_display = ["name", "fund", "max_score", "order"]
    list_filter = ["fund"]
    search_fields = ["name", "guidance"]
    list_editable = ["order"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("fund")
        if request.user.is_superuser:
            return qs
        return qs.filter(fund__country_programme_id=request.user.country_programme_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "fund" and not request.user.is_superuser:
            funds = db_field.remote_field.model._default_manager
            kwargs["queryset"] = funds.filter(country_programme_id=request.user.country_programme_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(ProposalScopedAdminMixin, admin.ModelAdmin):
    list_display = ["proposal", "member", "declared_at"]
    search_fields = ["proposal__title", "member__username"]
    fields = ["proposal", "reason"]
    autocomplete_fields = ["proposal"]
    list_select_related = ["proposal__cop", "member"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        declaration = services.conflict_declare(proposal=obj.proposal, member=request.user, reason=obj.reason)
        obj.pk, obj.member = declaration.pk, declaration.member  # the admin's log entry names it
