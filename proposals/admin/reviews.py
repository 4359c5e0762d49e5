"""Reviews with their scores on the fund's criteria, the criteria, and conflict declarations."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ccop.admin import ScopedAdminMixin, ScopedInlineMixin
from ccop.audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped

from .. import services
from ..models import (
    ConflictDeclaration,
    Review,
    ReviewCriterion,
    ReviewScore,
)
from .common import ProposalScopedAdminMixin, ReadOnlyAdminMixin


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
        return list(ReviewCriterion.objects.visible_to(request.user).filter(fund__proposals__pk=proposal_id))

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


class ReviewScoreInline(ScopedInlineMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = ReviewScore
    fields = ["criterion", "score"]
    readonly_fields = fields
    extra = 0


@admin.register(ReviewCriterion)
class ReviewCriterionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The criteria of the funds of the person's own programme (the funds FundAdmin shows)."""

    list_display = ["name", "fund", "max_score", "order"]
    list_filter = ["fund"]
    search_fields = ["name", "guidance"]
    list_editable = ["order"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("fund")


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
