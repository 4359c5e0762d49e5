"""The core's admin: programmes, organisations, CoPs with their phases and members, people.

Every admin of every app is scoped to the person's programme by `ccop.admin_scoping`; who may
set whose role, password and affiliations is `ccop.roles`."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from . import roles
from .admin_scoping import RelatedOnlyFiltersMixin, ScopedAdminMixin, ScopedInlineMixin
from .audit import ReadOnlyHistoryAdmin as SimpleHistoryAdmin  # history pages read-only, scoped
from .models import CoP, CoPPhase, CountryProgramme, Membership, Organisation, RightsholderGroup, User

__all__ = ["RelatedOnlyFiltersMixin", "ScopedAdminMixin", "ScopedInlineMixin"]


@admin.register(CountryProgramme)
class CountryProgrammeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "country", "language", "facilitator_list"]
    search_fields = ["name", "country"]
    filter_horizontal = ["facilitators"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("facilitators")

    @admin.display(description=_("facilitators"))
    def facilitator_list(self, obj):
        return ", ".join(o.acronym for o in obj.facilitators.all())


@admin.register(RightsholderGroup)
class RightsholderGroupAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "name_local", "code", "order"]
    search_fields = ["name", "name_local"]

    def has_add_permission(self, request):
        return False  # the five groups are fixed (data migration)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, now
    list_display = ["acronym", "name", "name_local", "kind", "country_programme", "cop_count"]
    list_filter = ["kind", "country_programme"]
    search_fields = ["acronym", "name", "name_local"]
    ordering = ["acronym"]  # the count's GROUP BY drops the model's ordering (pages, autocomplete)

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


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


class CoPPhaseInline(ScopedInlineMixin, admin.TabularInline):
    model = CoPPhase
    extra = 0


@admin.register(CoP)
class CoPAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
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
class MembershipAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["organisation", "cop", "role", "joined_on", "left_on"]
    list_filter = ["role", "cop__country_programme", "cop"]
    search_fields = ["organisation__acronym", "organisation__name", "cop__name"]
    autocomplete_fields = ["organisation", "cop"]
    date_hierarchy = "joined_on"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "cop")


@admin.register(CoPPhase)
class CoPPhaseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["cop", "number", "title", "starts_on", "ends_on"]
    list_filter = ["cop"]
    search_fields = ["title", "cop__name"]


# --------------------------------------------------------------------------- people


class PersonFormMixin(forms.Form):
    """The user admin's forms: only the roles the person editing may give, and who may set whom
    (`roles.person_check_save`) checked on the page with the values as they would be saved."""

    change_reason = forms.CharField(
        label=_("Why (kept in the audit trail)"),
        max_length=roles.REASON_MAX_LENGTH,
        required=False,
        help_text=_("Needed when a role, organisation, programme, affiliation or access changes."),
    )
    acting_user = None  # the person editing; set per request by UserAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            self.fields["role"].choices = [("", "---------"), *roles.role_choices_for(self.acting_user)]

    def _m2m(self, name):
        return self.cleaned_data.get(name) if name in self.fields else None

    def _post_clean(self):
        super()._post_clean()  # the instance carries the posted values from here on
        if self.errors:
            return
        try:
            roles.person_check_save(
                person=self.instance,
                acting_user=self.acting_user,
                reason=self.cleaned_data.get("change_reason") or "",
                affiliations=self._m2m("affiliations"),
                groups=self._m2m("groups"),
                permissions=self._m2m("user_permissions"),
            )
        except ValidationError as exc:
            self.add_error(None, exc)


class PersonChangeForm(PersonFormMixin, UserChangeForm):
    pass


class PersonCreationForm(PersonFormMixin, AdminUserCreationForm):
    pass


class PersonPasswordForm(AdminPasswordChangeForm):
    def save(self, commit=True):
        # who: the request's user (HistoryRequestMiddleware); why:
        self.user._change_reason = (
            roles.REASON_PASSWORD_SET
            if self.cleaned_data["set_usable_password"]
            else "password login disabled"
        )
        return super().save(commit)


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin, SimpleHistoryAdmin):
    """People of the person's programme (`User.objects.visible_to`); each changed only by who may
    (`roles.can_manage_person`: a facilitator sees the programme's committee members and
    facilitators, and changes its grantee staff only), saved through `roles.person_save`."""

    form = PersonChangeForm
    add_form = PersonCreationForm
    change_password_form = PersonPasswordForm
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
        (_("Why"), {"fields": ["change_reason"]}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (
            _("Role in the programme"),
            {"fields": ["email", "first_name", "last_name", "role", "organisation", "country_programme"]},
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "country_programme")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or roles.can_manage_person(request.user, obj))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not roles.can_grant_admin_powers(request.user):
            readonly += ["is_superuser", "is_staff", "groups", "user_permissions"]
        if not roles.can_change_affiliations(request.user):
            readonly += ["affiliations"]
        return readonly

    def user_change_password(self, request, id, form_url=""):
        person = self.get_object(request, unquote(id))
        if person is not None and not roles.can_set_password(request.user, person):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        roles.person_save(
            person=obj,
            acting_user=request.user,
            reason=data.get("change_reason") or ("" if change else roles.REASON_CREATED),
            affiliations=form._m2m("affiliations"),
            groups=form._m2m("groups"),
            permissions=form._m2m("user_permissions"),
        )

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # person_save saved the many-to-many fields
            self.save_formset(request, form, formset, change=change)


admin.site.site_header = _("CCoP portal administration")
admin.site.site_title = _("CCoP portal")
admin.site.index_title = _("Programmes, CoPs, proposals and grants")
