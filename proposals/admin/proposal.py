"""The proposal admin: list, change page with its inlines, decision pages and workflow actions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ccop import money
from ccop.admin import RelatedOnlyFiltersMixin
from ccop.audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped

from .. import permissions, services
from ..admin_export import ExportWithFiltersMixin
from ..models import (
    Applicant,
    Proposal,
)
from ..resources import ProposalResource
from ..selectors import budget_summary, proposals_for_user
from .common import (
    ApplicantInline,
    BudgetLineInline,
    EndorsementInline,
    ExchangeRateInline,
    PlannedActivityInline,
    TransitionInline,
)
from .decisions import DECISIONS, ReasonForm, _apply_decision, _decision_context, _run, _with_reason


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
        if formset.model is Applicant:
            self._save_applicants(request, form.instance, formset)
            return
        if change and formset.has_changed():
            services.proposal_record_edit(proposal=form.instance, acting_user=request.user)
        super().save_formset(request, form, formset, change)

    @staticmethod
    def _save_applicants(request, proposal, formset):
        """Through the services, checked already by `ApplicantInlineFormSet`: additions first
        (the first of a proposal without a lead leads), then removals (the lead passes on)."""
        formset.save(commit=False)
        for applicant in formset.new_objects:
            services.applicant_add(
                proposal=proposal, organisation=applicant.organisation, acting_user=request.user
            )
        for applicant in formset.deleted_objects:
            services.applicant_remove(
                proposal=proposal, organisation=applicant.organisation, acting_user=request.user
            )

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
