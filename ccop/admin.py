from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped
from .models import CoP, CoPPhase, CountryProgramme, Membership, Organisation, RightsholderGroup, User
from .roles import user_set_role


class RelatedOnlyFiltersMixin:
    """A list filter on a related model (CoP, fund, organisation, programme) offers only the
    values found in the admin's own, scoped rows: it never names another programme's."""

    def get_list_filter(self, request):
        return [_related_only(self.model, entry) for entry in super().get_list_filter(request)]


def _related_only(model, entry):
    if isinstance(entry, str) and get_fields_from_path(model, entry)[-1].is_relation:
        return (entry, admin.RelatedOnlyFieldListFilter)
    return entry


class ProgrammeScopedAdminMixin(RelatedOnlyFiltersMixin):
    """A facilitator sees and changes only their own country programme's records."""

    programme_lookup = "country_programme"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self.programme_lookup: request.user.country_programme_id})


@admin.register(CountryProgramme)
class CountryProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "country", "language", "facilitator_list"]
    search_fields = ["name", "country"]
    filter_horizontal = ["facilitators"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("facilitators")
        user = request.user
        if user.is_superuser or (user.role == User.Role.COMMITTEE_MEMBER and not user.country_programme_id):
            return qs  # a committee member without a programme sits on every committee
        return qs.filter(pk=user.country_programme_id)  # a programme sees nothing of another

    @admin.display(description=_("facilitators"))
    def facilitator_list(self, obj):
        return ", ".join(o.acronym for o in obj.facilitators.all())


@admin.register(RightsholderGroup)
class RightsholderGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "name_local", "code", "order"]
    search_fields = ["name", "name_local"]

    def has_add_permission(self, request):
        return False  # the five groups are fixed (data migration)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(ProgrammeScopedAdminMixin, SimpleHistoryAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, now
    list_display = ["acronym", "name", "name_local", "kind", "country_programme", "cop_count"]
    list_filter = ["kind", "country_programme"]
    search_fields = ["acronym", "name", "name_local"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("country_programme")
            .annotate(n_cops=Count("memberships"))
        )

    @admin.display(description=_("CoPs"), ordering="n_cops")
    def cop_count(self, obj):
        return obj.n_cops


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


class CoPPhaseInline(admin.TabularInline):
    model = CoPPhase
    extra = 0


@admin.register(CoP)
class CoPAdmin(ProgrammeScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "country_programme", "status", "group_list", "member_list"]
    list_filter = ["status", "country_programme", "rightsholder_groups"]
    search_fields = ["name", "code", "domain", "organisations__acronym", "organisations__name"]
    prepopulated_fields = {"code": ["name"]}
    filter_horizontal = ["rightsholder_groups"]
    inlines = [MembershipInline, CoPPhaseInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("country_programme")
            .prefetch_related("rightsholder_groups", "memberships__organisation")
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, _dup = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    @admin.display(description=_("rightsholder groups"))
    def group_list(self, obj):
        return ", ".join(g.name for g in obj.rightsholder_groups.all())

    @admin.display(description=_("members"))
    def member_list(self, obj):
        return ", ".join(m.organisation.acronym for m in obj.memberships.all())


@admin.register(Membership)
class MembershipAdmin(ProgrammeScopedAdminMixin, SimpleHistoryAdmin):
    programme_lookup = "cop__country_programme"
    list_display = ["organisation", "cop", "role", "joined_on", "left_on"]
    list_filter = ["role", "cop__country_programme", "cop"]
    search_fields = ["organisation__acronym", "organisation__name", "cop__name"]
    autocomplete_fields = ["organisation", "cop"]
    date_hierarchy = "joined_on"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "cop")


@admin.register(CoPPhase)
class CoPPhaseAdmin(ProgrammeScopedAdminMixin, admin.ModelAdmin):
    programme_lookup = "cop__country_programme"
    list_display = ["cop", "number", "title", "starts_on", "ends_on"]
    list_filter = ["cop"]
    search_fields = ["title", "cop__name"]


@admin.register(User)
class UserAdmin(RelatedOnlyFiltersMixin, DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = [
        "username",
        "get_full_name",
        "email",
        "role",
        "organisation",
        "country_programme",
        "is_staff",
        "is_active",
    ]
    list_filter = ["role", "country_programme", "is_staff", "is_active", "is_superuser"]
    search_fields = ["username", "first_name", "last_name", "email", "organisation__acronym"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["affiliations", "groups", "user_permissions"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Role in the programme"),
            {"fields": ["role", "organisation", "affiliations", "country_programme", "preferred_language"]},
        ),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (
            _("Role in the programme"),
            {"fields": ["email", "first_name", "last_name", "role", "organisation", "country_programme"]},
        ),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("organisation", "country_programme")
        if request.user.is_superuser:
            return qs
        # A facilitator manages the people of their own programme, never a superuser.
        return qs.filter(is_superuser=False).filter(
            models.Q(country_programme_id=request.user.country_programme_id)
            | models.Q(organisation__country_programme_id=request.user.country_programme_id)
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser grants admin powers: otherwise a facilitator could make anyone,
            # themselves included, a superuser. Roles go through `user_set_role`.
            readonly += ["is_superuser", "is_staff", "groups", "user_permissions"]
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "country_programme" and not request.user.is_superuser:
            kwargs["queryset"] = CountryProgramme.objects.filter(pk=request.user.country_programme_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "role" in form.changed_data or not change:
            user_set_role(user=obj, role=obj.role)


admin.site.site_header = _("CCoP portal administration")
admin.site.site_title = _("CCoP portal")
admin.site.index_title = _("Programmes, CoPs, proposals and grants")
