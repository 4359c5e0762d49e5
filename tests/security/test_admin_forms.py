"""The permission matrix's generic part (issue 11): every admin add and change form, as each
staff role, against the other programme.

Enumerated from `admin.site._registry` (inlines included, read from the rendered page), for each
staff role (committee member of A, committee member of A with a declared conflict, facilitator
of A, facilitator of B) on the role's own programme's object (`Scenario.admin_object` /
`admin_object_b`), every relation field (each model-choice field of the form and of the first
row of each inline, and of a row the test adds where the inline allows adding):

- choices: the field's choices, the rendered page and the field's autocomplete endpoint hold
  nothing of the other programme (its records' ids, its marker words);
- posted ids: the form posted with the field set to the other programme's record is answered
  exactly as the same form with an id that does not exist: the same status and the same errors
  on every form of the page ("not a valid choice" where the field is validated, so no "already
  exists" or other message reveals the record), nothing saved that an id that does not exist
  would not save (the digest of every table), and nothing of the other programme on the answer
  (a change form whose other fields are valid saves them whatever a view-only inline row says:
  Django ignores those rows, for any id);
- ids in the address: the add page given the other programme's record as the field's initial
  value (?field=id) shows nothing of it.

A new model, admin, inline or relation field is covered without writing anything here; a
relation to a model the scenario has no record of on each side fails, naming it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.widgets import AutocompleteMixin
from django.db import connection, transaction
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.urls import reverse
from simple_history.models import HistoricalChanges

from ccop.admin_scoping import ScopedAdminMixin, ScopedInlineMixin
from ccop.roles import ROLE_GROUPS
from tests.admin_helpers import form_data

from .matrix import SIZES, WriteDetector, database_digest
from .scenario import MARKERS

pytestmark = pytest.mark.django_db

STAFF = ("committee", "conflict", "fac-A", "fac-B")
# Related models that hold no programme's data: reference data and Django's own.
NOT_PROGRAMME_DATA = {
    "ccop.rightsholdergroup",
    "auth.group",
    "auth.permission",
    "contenttypes.contenttype",
}
ID_CODES = {"invalid_choice", "invalid_pk_value", "invalid_list"}
MISSING_ID = 987654321


def own(role: str) -> str:
    return "B" if role == "fac-B" else "A"


def other(role: str) -> str:
    return "A" if role == "fac-B" else "B"


def superuser_only(model) -> bool:
    """No role's group holds any permission on the model: only superusers open its admin."""
    opts = model._meta
    return not any(
        opts.model_name in grants.get(opts.app_label, {}) for _name, grants in ROLE_GROUPS.values()
    )


ADMINS = {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}
FORMS = sorted(
    (label, view)
    for label, model_admin in ADMINS.items()
    if not superuser_only(model_admin.model)
    for view in ("add", "change")
)


# --------------------------------------------------------------------------- the mechanism is on


def _project_inlines() -> list[type]:
    """Every inline class defined in the project's apps (also those only `get_inlines` uses)."""
    project = {c.name for c in apps.get_app_configs() if Path(c.path).parent == Path(settings.BASE_DIR)}
    found, todo = set(), [InlineModelAdmin]
    while todo:
        for cls in todo.pop().__subclasses__():
            found.add(cls)
            todo.append(cls)
    return [cls for cls in found if cls.__module__.split(".")[0] in project and cls.model is not None]


def test_every_admin_and_inline_is_scoped():
    """One mechanism on every admin a role can open (`ccop.admin_scoping`): an admin or inline
    registered without it fails here."""
    unscoped = [
        label
        for label, model_admin in ADMINS.items()
        if not superuser_only(model_admin.model) and not isinstance(model_admin, ScopedAdminMixin)
    ]
    for model_admin in ADMINS.values():
        if superuser_only(model_admin.model):
            continue
        unscoped += [
            f"{type(model_admin).__name__}: {inline.__name__}"
            for inline in model_admin.inlines
            if not issubclass(inline, ScopedInlineMixin)
        ]
    unscoped += [cls.__qualname__ for cls in _project_inlines() if not issubclass(cls, ScopedInlineMixin)]
    assert not unscoped, f"admins without ScopedAdminMixin / inlines without ScopedInlineMixin: {unscoped}"
    assert FORMS, "no admin form enumerated"


def test_every_model_of_the_project_says_who_may_see_it():
    """Each model of the project's apps has `objects.visible_to(user)` (`ccop.scoping`), so
    the admin, the selectors and the views scope it the same way."""
    project = [c for c in apps.get_app_configs() if Path(c.path).parent == Path(settings.BASE_DIR)]
    missing = [
        model._meta.label
        for config in project
        for model in config.get_models()
        if not issubclass(model, HistoricalChanges) and not hasattr(model._default_manager, "visible_to")
    ]
    assert not missing, f"models without visible_to(user): {missing}"


# --------------------------------------------------------------------------- reading a form page


@dataclass
class Relation:
    key: str  # the name posted (with the inline's prefix)
    field: ModelChoiceField
    form_model: type
    name: str
    prefix: str | None = None  # the inline's prefix, for a row the test adds
    index: int | None = None

    @property
    def label(self) -> str:
        return self.field.queryset.model._meta.label_lower


def _relations(form, key_of) -> list[tuple[str, str, ModelChoiceField]]:
    return [
        (name, key_of(name), field)
        for name, field in form.fields.items()
        if isinstance(field, ModelChoiceField) and not field.disabled
    ]


def relations(response) -> list[Relation]:
    """Every relation field of the page: the main form's, the first row of each inline, and a
    row the test adds to each inline that allows adding."""
    found = []
    main = response.context["adminform"].form
    found += [Relation(key, field, main._meta.model, name) for name, key, field in _relations(main, str)]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        model = formset.model
        for form in formset.forms[:1]:
            found += [Relation(key, f, model, n) for n, key, f in _relations(form, form.add_prefix)]
        if inline.has_add_permission:
            index = formset.total_form_count()
            empty = formset.empty_form
            found += [
                Relation(f"{formset.prefix}-{index}-{n}", f, model, n, formset.prefix, index)
                for n, _key, f in _relations(empty, str)
            ]
    return found


def _error_data(form) -> dict:
    """The form's errors by field (the admin gives view-only inline rows a plain empty dict)."""
    found = form.errors
    return found.as_data() if hasattr(found, "as_data") else {}


def _errors_of(form) -> list:
    return sorted(
        (field, error.code or "", None if error.code in ID_CODES else " ".join(error.messages))
        for field, errors in _error_data(form).items()
        for error in errors
    )


def errors(response):
    """Every error of every form on the page, ids left out of "not a valid choice" messages;
    for anything but a form page, its status and where it sends."""
    context = response.context
    if response.status_code != 200 or context is None or "adminform" not in context:
        return f"{response.status_code} {response.get('Location', '')}"
    found = [("main", _errors_of(context["adminform"].form))]
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        found.append((formset.prefix, "formset", [str(e) for e in formset.non_form_errors()]))
        found += [(formset.prefix, i, _errors_of(form)) for i, form in enumerate(formset.forms)]
    return found


def field_refused(response, relation: Relation) -> bool:
    """The page says the field's value is not a valid choice."""
    context = response.context
    if response.status_code != 200 or context is None or "adminform" not in context:
        return False
    forms_ = [context["adminform"].form]
    for inline in context["inline_admin_formsets"]:
        forms_ += inline.formset.forms
    for form in forms_:
        for name, field_errors in _error_data(form).items():
            if form.add_prefix(name) == relation.key and any(e.code in ID_CODES for e in field_errors):
                return True
    return False


def marker_words(response, side: str) -> list[str]:
    text = response.content.decode()
    return [word for word in MARKERS[side] if re.search(rf"\b{re.escape(word)}\b", text)]


# --------------------------------------------------------------------------- posting


def post_rolled_back(client, path: str, data: dict, baseline: str):
    """POST, then roll everything back; also says whether any table's rows changed."""
    detector = WriteDetector()
    with transaction.atomic(), connection.execute_wrapper(detector):
        response = client.post(path, data)
        changed = bool(detector.writes) and database_digest() != baseline
        transaction.set_rollback(True)
    return response, changed


def with_value(data: dict, relation: Relation, value) -> dict:
    data = dict(data)
    data[relation.key] = [str(value)] if isinstance(relation.field, ModelMultipleChoiceField) else str(value)
    if relation.prefix is not None:
        data[f"{relation.prefix}-TOTAL_FORMS"] = str(relation.index + 1)
    return data


def base_data(client, label: str, view: str, response, own_object) -> dict:
    """What the page posts as rendered. An add form starts from the values of the role's own
    record where the role may open its change form, so the other fields are valid and the
    form's own checks (uniqueness, `clean`) run."""
    data = form_data(response)
    if view == "add":
        change = client.get(reverse(f"admin:{label.replace('.', '_')}_change", args=[own_object.pk]))
        if change.status_code == 200 and change.context and "adminform" in change.context:
            fields = response.context["adminform"].form.fields
            data.update({k: v for k, v in form_data(change).items() if k in fields})
    return data


def autocomplete_ids(client, relation: Relation) -> set[int] | None:
    widget = getattr(relation.field.widget, "widget", relation.field.widget)
    if not isinstance(widget, AutocompleteMixin):
        return None
    opts = relation.form_model._meta
    answer = client.get(
        reverse("admin:autocomplete"),
        {"app_label": opts.app_label, "model_name": opts.model_name, "field_name": relation.name, "term": ""},
    )
    if answer.status_code != 200:
        return set()
    return {int(r["id"]) for r in answer.json()["results"]}


# --------------------------------------------------------------------------- the test


_sent = {"forms": 0, "fields": 0, "requests": 0}


@pytest.mark.parametrize(("label", "view"), FORMS, ids=[f"{label}-{view}" for label, view in FORMS])
def test_admin_forms_hold_and_take_nothing_of_the_other_programme(
    label, view, scenario, client_for, baseline
):
    sides = {"A": scenario.side_a, "B": scenario.side_b}
    problems: list[str] = []
    for role in STAFF:
        client = client_for(role)
        own_object = (scenario.admin_object_b if own(role) == "B" else scenario.admin_object)[label]
        url_name = f"admin:{label.replace('.', '_')}_{view}"
        path = reverse(url_name, args=[own_object.pk] if view == "change" else [])
        page = client.get(path)
        _sent["requests"] += 1
        if page.status_code != 200:
            continue  # the role does not open this form (the matrix says what it gets)
        problems += [f"{role} reads {w!r} on {path}" for w in marker_words(page, other(role))]
        if "adminform" not in page.context:
            continue
        _sent["forms"] += 1
        data = base_data(client_for(role), label, view, page, own_object)
        for relation in relations(page):
            related = relation.label
            if related in NOT_PROGRAMME_DATA:
                continue
            if related not in scenario.side_a:
                problems.append(
                    f"{relation.key} on {path} relates to {related}: give the scenario one of each programme"
                )
                continue
            _sent["fields"] += 1
            theirs = sides[other(role)][related]
            where = f"{role} {view} {label} field {relation.key} ({related})"
            offered = set(relation.field.queryset.values_list("pk", flat=True)) & theirs
            if offered:
                problems.append(f"{where}: offers the other programme's {sorted(offered)}")
            listed = autocomplete_ids(client_for(role), relation)
            if listed and listed & theirs:
                problems.append(
                    f"{where}: the autocomplete lists the other programme's {sorted(listed & theirs)}"
                )
            their_id = min(theirs)
            answer, changed = post_rolled_back(
                client_for(role), path, with_value(data, relation, their_id), baseline
            )
            missing, missing_changed = post_rolled_back(
                client_for(role), path, with_value(data, relation, MISSING_ID), baseline
            )
            _sent["requests"] += 3
            if changed and not missing_changed:
                problems.append(
                    f"{where}: posting the other programme's #{their_id} changed the database "
                    "(an id that does not exist changes nothing)"
                )
            elif errors(answer) != errors(missing):
                refused = field_refused(missing, relation) and not field_refused(answer, relation)
                problems.append(
                    f"{where}: the other programme's #{their_id} "
                    + (
                        "was not refused as an invalid choice"
                        if refused
                        else "is answered unlike an id that does not exist"
                    )
                    + f":\n      theirs:  {errors(answer)!s:.400}\n      missing: {errors(missing)!s:.400}"
                )
            problems += [
                f"{where}: the answer to #{their_id} reads {w!r}" for w in marker_words(answer, other(role))
            ]
            if view == "add" and relation.prefix is None and relation.key == relation.name:
                shown = client_for(role).get(path, {relation.name: their_id})
                _sent["requests"] += 1
                problems += [
                    f"{where}: ?{relation.name}={their_id} shows {w!r}"
                    for w in marker_words(shown, other(role))
                ]
    SIZES["admin forms against the other programme"] = (
        f"{len(FORMS)} add and change forms × {len(STAFF)} staff roles: {_sent['forms']} forms opened, "
        f"{_sent['fields']} relation fields posted with the other programme's id, {_sent['requests']} requests"
    )
    assert not problems, "\n".join(problems)
