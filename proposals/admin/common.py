"""Pieces shared by the proposals admin: read-only records, inlines that follow the proposal's
freeze, and scoping of a proposal's records to the proposals the person may see."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ccop import money
from ccop.admin import RelatedOnlyFiltersMixin
from ccop.audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped

from .. import permissions, services
from ..models import (
    Applicant,
    BudgetLine,
    Endorsement,
    ExchangeRate,
    PlannedActivity,
    Transition,
)
from ..selectors import proposals_for_user


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


class ApplicantInlineFormSet(forms.BaseInlineFormSet):
    """Applicants change only through the services (`ProposalAdmin.save_formset`); their checks
    run here first so a refusal shows on the page: a row's organisation cannot be swapped (remove
    it, add the other), an organisation must be an active member not already applying, and the
    last applicant cannot go (`applicant_check_removal`)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        removing, adding = set(), 0
        try:
            for form in self.forms:
                deleted = self._should_delete_form(form)
                organisation = form.cleaned_data.get("organisation")
                if form.instance.pk and deleted:
                    removing.add(form.instance.organisation_id)
                elif form.instance.pk and "organisation" in form.changed_data:
                    raise ValidationError(
                        _("To change an applicant, remove it and add the other organisation.")
                    )
                elif not form.instance.pk and organisation is not None and not deleted:
                    services.applicant_check_add(proposal=self.instance, organisation=organisation)
                    adding += 1
            if self.instance.pk:
                services.applicant_check_removal(
                    proposal=self.instance, organisation_ids=removing, adding=adding
                )
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class ApplicantInline(ProposalChildInlineMixin, admin.TabularInline):
    model = Applicant
    formset = ApplicantInlineFormSet
    autocomplete_fields = ["organisation"]
    readonly_fields = ["is_lead"]  # set by the services: the first applicant, then a successor


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
