"""The facilitators' admin of reports, outputs, lessons and lesson themes.

Reports, outputs and lessons are written by the CoP's staff in the portal; here they are read
(scoped to the person's programme through `visible_to`) and moved on by the facilitators:
accept, send back with a comment, publish, each through `activities.services`. Lesson themes
are the list facilitators extend, for their own programme."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ccop.admin import RelatedOnlyFiltersMixin
from ccop.audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped
from ccop.models import CountryProgramme, User

from . import services
from .models import (
    ActivityReport,
    Lesson,
    LessonTheme,
    Output,
    ReportParticipation,
    ReportPhoto,
    ReportTransition,
    Stakeholder,
)


def is_reviewer(user) -> bool:
    """Facilitators (of their programme: the services check each object) and superusers."""
    return user.is_active and (user.is_superuser or user.role == User.Role.FACILITATOR)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ParticipationInline(ReadOnlyInline):
    model = ReportParticipation
    fields = readonly_fields = ["rightsholder_group", "number"]


class StakeholderInline(ReadOnlyInline):
    model = Stakeholder
    fields = readonly_fields = ["kind", "name"]


class PhotoInline(ReadOnlyInline):
    model = ReportPhoto
    fields = readonly_fields = ["preview", "description", "uploaded_by", "uploaded_at"]

    @admin.display(description=_("photo"))
    def preview(self, obj):
        url = reverse("activities:photo", args=[obj.pk])
        return format_html(
            '<a href="{}"><img src="{}?size=small" alt="{}" width="160"></a>', url, url, obj.description
        )


class TransitionInline(ReadOnlyInline):
    model = ReportTransition
    fields = readonly_fields = ["from_status", "to_status", "actor", "at", "comment"]


class ScopedReadOnlyAdmin(RelatedOnlyFiltersMixin, SimpleHistoryAdmin):
    """Listed and shown within the person's scope (`visible_to`); changed only through the
    services (actions), never by editing the record here."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request):
        return is_reviewer(request.user)

    def apply(self, request, queryset, label: str, call) -> None:
        """Apply a service to each selected record; each refusal becomes an error message."""
        done = 0
        for item in queryset:
            try:
                call(item)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{item}: {' '.join(exc.messages)}", level=messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(label)s: %(n)d record.", "%(label)s: %(n)d records.", done)
                % {"label": label, "n": done},
                level=messages.SUCCESS,
            )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("What should the CoP change?"),
        widget=forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField"}),
    )


@admin.register(ActivityReport)
class ActivityReportAdmin(ScopedReadOnlyAdmin):
    list_display = ["title", "cop", "kind", "dates", "status", "participants_total", "published_at"]
    list_filter = ["status", "kind", "cop", "cop__country_programme"]
    search_fields = ["title", "description", "cop__name"]
    date_hierarchy = "starts_on"
    actions = ["accept", "send_back", "publish"]
    inlines = [ParticipationInline, StakeholderInline, PhotoInline, TransitionInline]
    fields = readonly_fields = [
        "cop",
        "grant",
        "planned_activity",
        "no_plan_reason",
        "title",
        "kind",
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
        "status",
        "source",
        "is_demo",
        "created_by",
        "created_at",
        "submitted_at",
        "published_at",
        "published_by",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cop", "grant__proposal", "planned_activity")

    @admin.display(description=_("dates"), ordering="starts_on")
    def dates(self, obj):
        return obj.dates_label()

    @admin.action(description=_("Accept the selected reports"), permissions=["review"])
    def accept(self, request, queryset):
        self.apply(
            request,
            queryset,
            _("Accepted"),
            lambda r: services.report_accept(report=r, acting_user=request.user),
        )

    @admin.action(description=_("Send the selected reports back to the CoP…"), permissions=["review"])
    def send_back(self, request, queryset):
        form = CommentForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            comment = form.cleaned_data["comment"]
            self.apply(
                request,
                queryset,
                _("Sent back"),
                lambda r: services.report_send_back(report=r, acting_user=request.user, comment=comment),
            )
            return None
        return TemplateResponse(
            request,
            "admin/activities/comment_action.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Send the reports back to the CoP"),
                "form": form,
                "queryset": queryset,
                "action": "send_back",
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Publish the selected reports"), permissions=["review"])
    def publish(self, request, queryset):
        self.apply(
            request,
            queryset,
            _("Published"),
            lambda r: services.report_publish(report=r, acting_user=request.user),
        )


class ResultAdmin(ScopedReadOnlyAdmin):
    actions = ["publish"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cop", "report__cop")

    @admin.display(description=_("published"), boolean=True)
    def published(self, obj):
        return obj.is_published

    @admin.action(description=_("Publish the selected records"), permissions=["review"])
    def publish(self, request, queryset):
        self.apply(
            request,
            queryset,
            _("Published"),
            lambda item: services.result_publish(item=item, acting_user=request.user),
        )


@admin.register(Output)
class OutputAdmin(ResultAdmin):
    list_display = ["title", "kind", "cop", "report", "produced_on", "published"]
    list_filter = ["kind", "cop", "cop__country_programme"]
    search_fields = ["title", "findings", "cop__name"]
    fields = readonly_fields = [
        "cop",
        "report",
        "kind",
        "title",
        "languages",
        "produced_on",
        "date_precision",
        "url",
        "file",
        "findings",
        "source",
        "created_by",
        "created_at",
        "published_at",
        "published_by",
    ]


@admin.register(Lesson)
class LessonAdmin(ResultAdmin):
    list_display = ["short_text", "stage", "cop", "report", "published"]
    list_filter = ["stage", "themes", "cop", "cop__country_programme"]
    search_fields = ["text", "cop__name"]
    fields = readonly_fields = [
        "cop",
        "report",
        "stage",
        "theme_list",
        "text",
        "source",
        "created_by",
        "created_at",
        "published_at",
        "published_by",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("themes")

    @admin.display(description=_("lesson"))
    def short_text(self, obj):
        return obj.text[:100]

    @admin.display(description=_("themes"))
    def theme_list(self, obj):
        return ", ".join(t.name for t in obj.themes.all())


@admin.register(LessonTheme)
class LessonThemeAdmin(admin.ModelAdmin):
    """The list facilitators extend: everyone sees the shared themes (superusers keep them) and
    their programme's; a facilitator adds and changes their own programme's only."""

    list_display = ["name", "code", "country_programme", "order"]
    list_filter = ["country_programme"]
    search_fields = ["name", "name_local", "code"]
    prepopulated_fields = {"code": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("country_programme")

    def get_list_filter(self, request):
        return [] if not request.user.is_superuser else self.list_filter

    def _own(self, request, obj) -> bool:
        return (
            obj is None
            or request.user.is_superuser
            or (
                obj.country_programme_id is not None
                and obj.country_programme_id == request.user.country_programme_id
            )
        )

    def has_change_permission(self, request, obj=None):
        return self._own(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (
            self._own(request, obj)
            and not (obj and obj.lessons.exists())
            and super().has_delete_permission(request, obj)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "country_programme" and not request.user.is_superuser:
            kwargs["queryset"] = CountryProgramme.objects.filter(pk=request.user.country_programme_id)
            kwargs["required"] = True
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.country_programme_id = request.user.country_programme_id
        super().save_model(request, obj, form, change)
