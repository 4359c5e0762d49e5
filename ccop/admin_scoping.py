"""Programme scoping of the whole admin, in one place (DESIGN rule 6).

Every ModelAdmin of every app takes `ScopedAdminMixin` and every inline `ScopedInlineMixin`
(`tests/security/test_admin_forms.py` fails for one that does not, unless no role may open it).
Through the models' `visible_to(user)` they scope:

- the rows: the list, the change, delete and history pages, inline rows, exports, actions and
  the autocomplete's results (Django's autocomplete view asks the related model's admin);
- every choice of every form: each model-choice field of the add and change forms, of the
  inline forms and of the list's editable columns is narrowed when the form is made, declared
  fields and each formset row's `id` included. A posted id outside the person's programme is then "Select a valid choice",
  exactly as an id that does not exist, and uniqueness is not checked against a field that
  failed, so the "already exists" message cannot reveal another programme's rows;
- the list filters on a related model (only values found in the person's own rows);
- "view on site" (`admin_urls`), which redirected for any existing id of any programme.

A model without `visible_to` (Django's groups, login records) is seen by superusers only."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.forms import ModelChoiceField
from django.http import Http404
from django.urls import URLPattern


def visible(queryset, user):
    """`queryset` narrowed to what `user` may see; nothing for a model without `visible_to`
    unless the person is a superuser."""
    if hasattr(queryset, "visible_to"):
        return queryset.visible_to(user)
    if user.is_active and user.is_superuser:
        return queryset
    return queryset.none()


def scope_form_fields(form, user) -> None:
    for field in form.fields.values():
        if isinstance(field, ModelChoiceField) and field.queryset is not None:
            field.queryset = visible(field.queryset, user)


def scoped_form_class(form_class, user):
    """The form class whose instances offer and accept only what `user` may see."""

    class ScopedForm(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            scope_form_fields(self, user)

    ScopedForm.__name__ = ScopedForm.__qualname__ = form_class.__name__
    return ScopedForm


def scoped_formset_class(formset_class, user):
    """The formset class whose forms offer and accept only what `user` may see, the fields the
    formset adds included (each row's `id`, which Django checks against every row of the table)."""

    class ScopedFormSet(formset_class):
        def add_fields(self, form, index):
            super().add_fields(form, index)
            scope_form_fields(form, user)

    ScopedFormSet.__name__ = ScopedFormSet.__qualname__ = formset_class.__name__
    return ScopedFormSet


def _related_only(model, entry):
    if isinstance(entry, str) and get_fields_from_path(model, entry)[-1].is_relation:
        return (entry, admin.RelatedOnlyFieldListFilter)
    return entry


class RelatedOnlyFiltersMixin:
    """A list filter on a related model (CoP, fund, organisation, programme) offers only the
    values found in the admin's own, scoped rows: it never names another programme's."""

    def get_list_filter(self, request):
        return [_related_only(self.model, entry) for entry in super().get_list_filter(request)]


class _Scoped:
    def get_queryset(self, request):
        return visible(super().get_queryset(request), request.user)


class ScopedAdminMixin(_Scoped, RelatedOnlyFiltersMixin):
    """For every ModelAdmin: rows, form choices and posted ids within the person's scope."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        return scoped_form_class(super().get_form(request, obj, change=change, **kwargs), request.user)

    def get_changelist_formset(self, request, **kwargs):
        return scoped_formset_class(super().get_changelist_formset(request, **kwargs), request.user)


class ScopedInlineMixin(_Scoped):
    """For every inline: its rows and its forms' choices within the person's scope."""

    def get_formset(self, request, obj=None, **kwargs):
        return scoped_formset_class(super().get_formset(request, obj, **kwargs), request.user)


# --------------------------------------------------------------------------- view on site


def view_on_site(request, content_type_id, object_id, *, site):
    """Django's "view on site" redirect, for objects the person's admin shows only: any other
    id answers 404 exactly like one that does not exist."""
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist as exc:
        raise Http404 from exc
    model_admin = site._registry.get(model)
    if model_admin is None or not model_admin.has_view_or_change_permission(request):
        raise Http404
    try:
        shown = model_admin.get_queryset(request).filter(pk=unquote(object_id)).exists()
    except (ValueError, TypeError, ValidationError):
        shown = False
    if not shown:
        raise Http404
    return shortcut(request, content_type_id, object_id)


def admin_urls(site):
    """`site.urls` with "view on site" scoped (for `path("admin/", ...)`)."""
    patterns, app_name, namespace = site.urls

    def scoped(request, content_type_id, object_id):
        return view_on_site(request, content_type_id, object_id, site=site)

    patterns = [
        URLPattern(p.pattern, site.admin_view(scoped), p.default_args, p.name)
        if isinstance(p, URLPattern) and p.name == "view_on_site"
        else p
        for p in patterns
    ]
    return patterns, app_name, namespace
