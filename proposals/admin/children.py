"""A proposal's records on their own admin pages: budget lines, planned activities, applicants,
exchange rates, and the records only the services write (endorsements, transitions, decisions)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ccop import money
from ccop.admin import RelatedOnlyFiltersMixin
from ccop.audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped

from .. import services
from ..admin_export import ExportWithFiltersMixin
from ..models import (
    Applicant,
    BudgetLine,
    Decision,
    Endorsement,
    ExchangeRate,
    ExpectedParticipation,
    PlannedActivity,
    Transition,
)
from ..resources import BudgetLineResource
from ..selectors import proposals_for_user
from .common import ProposalChildAdmin, ProposalScopedAdminMixin, RateFieldMixin, ReadOnlyAdminMixin


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
    """Applicants are added and removed through the services (the lead is theirs to set); an
    applicant's organisation is not changed in place: remove it and add the other."""

    list_display = ["organisation", "proposal", "is_lead", "added_at"]
    list_filter = ["is_lead", "proposal__cop"]
    search_fields = ["organisation__acronym", "proposal__title"]
    autocomplete_fields = ["proposal", "organisation"]
    list_select_related = ["organisation", "proposal__cop"]

    def get_readonly_fields(self, request, obj=None):
        return ["is_lead"] if obj is None else ["proposal", "organisation", "is_lead"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, each through applicant_remove
        return actions

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class ApplicantForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if self.instance.pk is None and cleaned.get("proposal") and cleaned.get("organisation"):
                    try:
                        services.applicant_check_add(
                            proposal=cleaned["proposal"], organisation=cleaned["organisation"]
                        )
                    except ValidationError as exc:
                        raise forms.ValidationError(exc.messages) from exc
                return cleaned

        return ApplicantForm

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of an applicant is changed in place
        added = services.applicant_add(
            proposal=obj.proposal, organisation=obj.organisation, acting_user=request.user
        )
        obj.pk, obj.is_lead, obj.added_at = added.pk, added.is_lead, added.added_at

    def delete_view(self, request, object_id, extra_context=None):
        applicant = self.get_object(request, object_id)
        if applicant is not None:
            try:
                services.applicant_check_removal(
                    proposal=applicant.proposal, organisation_ids={applicant.organisation_id}
                )
            except ValidationError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
                return redirect(reverse("admin:proposals_applicant_change", args=[applicant.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.applicant_remove(
            proposal=obj.proposal, organisation=obj.organisation, acting_user=request.user
        )


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
