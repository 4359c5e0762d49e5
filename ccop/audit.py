"""The audit trail: every recorded change (django-simple-history) to proposals and their parts,
budgets, reviews, decisions, grants, funds, CoPs, organisations, memberships, and activity
reports, outputs and lessons, with who, when,
why and what changed, for the facilitators of a programme (their programme only) and superusers.

Read-only everywhere: the page answers GET only, no historical model has an admin of its own, and
the admins' history pages (`ReadOnlyHistoryAdmin`) refuse any POST (simple-history's revert form
would otherwise save an old version, even for someone with view permission only) and show only
objects the admin's own scoped queryset shows.

ccop is imported by every app and imports none of them: the other apps' models are looked up by
name (`apps.get_model`)."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.apps import apps
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models
from django.db.models import BigIntegerField, CharField, F, OuterRef, Subquery, Value
from django.http import Http404
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from simple_history.admin import SimpleHistoryAdmin

from .models import CoP, Organisation, User

PAGE_SIZE = 50
TEXT_LIMIT = 300


# --------------------------------------------------------------------------- what is tracked


@dataclass(frozen=True)
class Kind:
    """One tracked model: how its history rows name their proposal (`"self"`, a field, or
    through `"activity"` / `"review"`), or else how they belong to a programme."""

    key: str  # "app_label.modelname"
    proposal: str | None = None  # "self", "proposal_id", "activity", "review"
    programme: str | None = None  # "country_programme" or "cop" for kinds without a proposal
    organisation_field: str | None = None
    label_field: str | None = None

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.key)

    @property
    def history_model(self) -> type[models.Model]:
        return self.model.history.model


KINDS = (
    Kind("proposals.proposal", proposal="self", label_field="title"),
    Kind("proposals.applicant", proposal="proposal_id", organisation_field="organisation_id"),
    Kind("proposals.endorsement", proposal="proposal_id", organisation_field="organisation_id"),
    Kind("proposals.plannedactivity", proposal="proposal_id", label_field="title"),
    Kind("proposals.expectedparticipation", proposal="activity"),
    Kind("proposals.budgetline", proposal="proposal_id", label_field="description"),
    Kind("proposals.exchangerate", proposal="proposal_id", label_field="currency"),
    Kind("proposals.review", proposal="proposal_id"),
    Kind("proposals.reviewscore", proposal="review"),
    Kind("proposals.conflictdeclaration", proposal="proposal_id"),
    Kind("proposals.decision", proposal="proposal_id"),
    Kind("grants.grant", proposal="proposal_id"),
    Kind("grants.fund", programme="country_programme", label_field="name"),
    Kind("ccop.cop", programme="country_programme", label_field="name"),
    Kind("ccop.membership", programme="cop", organisation_field="organisation_id"),
    Kind("ccop.organisation", programme="country_programme", organisation_field="id", label_field="acronym"),
    Kind("activities.activityreport", programme="cop", label_field="title"),
    Kind("activities.output", programme="cop", label_field="title"),
    Kind("activities.lesson", programme="cop"),
    # people: roles, organisations, programmes, affiliations and admin powers (`ccop.roles`)
    Kind("ccop.user", programme="person", organisation_field="organisation_id", label_field="username"),
)
KINDS_BY_KEY = {kind.key: kind for kind in KINDS}
ACTIONS = {"+": gettext_lazy("created"), "~": gettext_lazy("changed"), "-": gettext_lazy("deleted")}


def audit_programme_of(user) -> int | None:
    """The programme whose changes this person may read: None for a superuser (all of them).
    Anyone else but a facilitator with a programme: PermissionDenied."""
    if user.is_active and user.is_superuser:
        return None
    if user.is_active and user.role == User.Role.FACILITATOR and user.country_programme_id:
        return user.country_programme_id
    raise PermissionDenied(_("The audit trail is for the programme's facilitators."))


# --------------------------------------------------------------------------- the entries


def _history(key: str):
    return KINDS_BY_KEY[key].history_model.objects


def _proposal_condition(kind: Kind, proposal_ids) -> models.Q:
    """History rows of `kind` whose proposal is in `proposal_ids` (a list or a subquery)."""
    if kind.proposal == "self":
        return models.Q(id__in=proposal_ids)
    if kind.proposal == "activity":
        activities = _history("proposals.plannedactivity").filter(proposal_id__in=proposal_ids)
        return models.Q(activity_id__in=activities.values("id"))
    if kind.proposal == "review":
        reviews = _history("proposals.review").filter(proposal_id__in=proposal_ids)
        return models.Q(review_id__in=reviews.values("id"))
    return models.Q(proposal_id__in=proposal_ids)


def _proposal_ref(kind: Kind):
    if kind.proposal == "self":
        return F("id")
    if kind.proposal in ("activity", "review"):
        parent = "proposals.plannedactivity" if kind.proposal == "activity" else "proposals.review"
        rows = _history(parent).filter(id=OuterRef(f"{kind.proposal}_id")).order_by("-history_id")
        return Subquery(rows.values("proposal_id")[:1], output_field=BigIntegerField())
    if kind.proposal:
        return F("proposal_id")
    return Value(None, output_field=BigIntegerField())


@dataclass(frozen=True)
class Cursor:
    """A place in the trail (newest first: date, then kind, then history id, all descending),
    written into page links as `date|kind|history id`."""

    date: datetime.datetime
    kind: str
    hid: int

    def __str__(self) -> str:
        return f"{self.date.isoformat()}|{self.kind}|{self.hid}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """None for anything but a cursor this page wrote (a bad link shows the newest)."""
        try:
            date, kind, hid = (value or "").split("|")
            parsed = datetime.datetime.fromisoformat(date)
        except ValueError:
            return None
        if kind not in KINDS_BY_KEY or not hid.isdigit() or parsed.tzinfo is None:
            return None
        return cls(parsed, kind, int(hid))

    @classmethod
    def of(cls, row) -> Cursor:
        return cls(row[2], row[0], row[1])


def _beyond(key: str, cursor: Cursor, older: bool) -> models.Q:
    """History rows of the kind `key` past `cursor`: older (further down the trail) or newer."""
    lt, lte = ("lt", "lte") if older else ("gt", "gte")
    if key == cursor.kind:
        return models.Q(**{f"history_date__{lt}": cursor.date}) | models.Q(
            history_date=cursor.date, **{f"history_id__{lt}": cursor.hid}
        )
    # Within one date, kinds are in descending order: a kind below the cursor's comes after it.
    after_in_order = (key < cursor.kind) == older
    return models.Q(**{f"history_date__{lte if after_in_order else lt}": cursor.date})


def audit_entries(
    *,
    programme_id: int | None,
    proposal_id: int | None = None,
    organisation_id: int | None = None,
    kind: str | None = None,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int | None = None,
):
    """One queryset (a UNION over the tracked models' history tables) of tuples
    (kind, history_id, date, type, user id, object id, proposal id), newest first, limited to
    `programme_id` (None: every programme) and the filters. History rows of a proposal count
    for its programme even after the proposal or the row was deleted.

    Keyset pagination: `before` (older than) or `after` (newer than, oldest first) a cursor,
    `limit` rows; each table then reads only its own first `limit` rows where the database
    allows (PostgreSQL), so a page costs the same at any depth, and nothing counts the union."""
    programme_cops = CoP.objects.filter(country_programme_id=programme_id).values("id")
    in_programme = _history("proposals.proposal").filter(cop_id__in=programme_cops).values("id")
    organisation_proposals = (
        _history("proposals.applicant").filter(organisation_id=organisation_id).values("proposal_id")
    )
    cursor, older = (after, False) if after is not None else (before, True)
    order = ("-history_date", "-history_id") if older else ("history_date", "history_id")
    slice_parts = limit is not None and connection.features.supports_slicing_ordering_in_compound
    parts, selected = [], []
    for spec in KINDS:
        if kind and spec.key != kind:
            continue
        rows = spec.history_model.objects.order_by()
        if spec.proposal:
            if programme_id is not None:
                rows = rows.filter(_proposal_condition(spec, in_programme))
            if proposal_id is not None:
                rows = rows.filter(_proposal_condition(spec, [proposal_id]))
            if organisation_id is not None:
                rows = rows.filter(_proposal_condition(spec, organisation_proposals))
        else:
            if proposal_id is not None:
                continue
            if organisation_id is not None:
                if not spec.organisation_field:
                    continue
                rows = rows.filter(**{spec.organisation_field: organisation_id})
            if programme_id is not None:
                if spec.programme == "cop":
                    rows = rows.filter(cop_id__in=programme_cops)
                elif spec.programme == "person":  # as `User.objects.visible_to`
                    organisations = Organisation.objects.filter(country_programme_id=programme_id)
                    rows = rows.filter(
                        models.Q(country_programme_id=programme_id)
                        | models.Q(organisation_id__in=organisations.values("id")),
                        is_superuser=False,
                    )
                else:
                    rows = rows.filter(country_programme_id=programme_id)
        if cursor is not None:
            rows = rows.filter(_beyond(spec.key, cursor, older))
        selected.append((spec, rows))
    slice_parts = slice_parts and len(selected) > 1  # one table alone is ordered and cut below
    for spec, rows in selected:
        if slice_parts:
            rows = rows.order_by(*order)[:limit]
        parts.append(
            rows.annotate(
                audit_kind=Value(spec.key, output_field=CharField()),
                audit_hid=F("history_id"),
                audit_date=F("history_date"),
                audit_type=F("history_type"),
                audit_user=F("history_user_id"),
                audit_object=F("id"),
                audit_proposal=_proposal_ref(spec),
            ).values_list(
                "audit_kind",
                "audit_hid",
                "audit_date",
                "audit_type",
                "audit_user",
                "audit_object",
                "audit_proposal",
            )
        )
    if not parts:
        return _history("proposals.proposal").none().values_list("id")
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    if older:
        combined = combined.order_by("-audit_date", "-audit_kind", "-audit_hid")
    else:
        combined = combined.order_by("audit_date", "audit_kind", "audit_hid")
    return combined[:limit] if limit is not None else combined


# --------------------------------------------------------------------------- what changed


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class Entry:
    kind: Kind
    record: models.Model
    previous: models.Model | None
    proposal_id: int | None
    proposal_title: str = ""
    changes: list[Change] = field(default_factory=list)

    @property
    def action(self) -> str:
        return str(ACTIONS.get(self.record.history_type, self.record.history_type))

    @property
    def what(self) -> str:
        name = str(self.kind.model._meta.verbose_name).capitalize()
        label = getattr(self.record, self.kind.label_field, "") if self.kind.label_field else ""
        return f"{name} #{self.record.id}" + (f": {_short(str(label), 80)}" if label else "")

    @property
    def who(self) -> str:
        user = self.record.history_user
        if user is None:
            return _("not recorded (system)")
        return f"{user.get_full_name() or user.username} ({user.username})"

    @property
    def when(self):
        return self.record.history_date


def _short(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _diff_fields(kind: Kind) -> list[models.Field]:
    skip = {"id"} | ({"proposal"} if kind.proposal == "proposal_id" else set())
    # auto_now stamps change with every save: the entry's own date says when.
    return [
        f
        for f in kind.history_model.tracked_fields
        if f.name not in skip and not getattr(f, "auto_now", False)
    ]


def _label_of(obj) -> str:
    if isinstance(obj, User):
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username
    for name in ("acronym", "title", "name", "username", "description"):
        value = getattr(obj, name, None)
        if value:
            return _short(str(value), 80)
    return f"#{obj.pk}"


class _Formatter:
    """Field values as words; related objects' names fetched once per model for the page."""

    def __init__(self):
        self.wanted: dict[type[models.Model], set] = {}
        self.names: dict[tuple[type[models.Model], object], str] = {}

    def want(self, f: models.Field, value) -> None:
        if f.is_relation and f.many_to_many:
            self.wanted.setdefault(f.related_model, set()).update(value)
        elif f.is_relation and f.many_to_one and value is not None:
            self.wanted.setdefault(f.related_model, set()).add(value)

    def fetch(self) -> None:
        for model, ids in self.wanted.items():
            for obj in model._base_manager.filter(pk__in=ids):
                self.names[(model, obj.pk)] = _label_of(obj)

    def __call__(self, f: models.Field, value) -> str:
        if f.is_relation and f.many_to_many:
            return ", ".join(sorted(self.names.get((f.related_model, v), f"#{v}") for v in value)) or "—"
        if value is None or value == "":
            return "—"
        if f.is_relation:
            return self.names.get((f.related_model, value)) or _("#%(id)s (deleted)") % {"id": value}
        if f.flatchoices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, Decimal):
            return formats.number_format(value, use_l10n=True, force_grouping=True)
        if hasattr(value, "tzinfo") and hasattr(value, "hour"):
            return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        if hasattr(value, "isoformat"):
            return formats.date_format(value, "SHORT_DATE_FORMAT")
        if isinstance(value, dict | list):
            return _short(json.dumps(value, ensure_ascii=False, sort_keys=True))
        return _short(str(value))


def audit_page_entries(rows) -> list[Entry]:
    """The page's rows as entries with their previous version and the fields that changed: a
    fixed number of queries per tracked model on the page, whatever the number of rows."""
    by_kind: dict[str, list[int]] = {}
    for key, hid, *_rest in rows:
        by_kind.setdefault(key, []).append(hid)
    records: dict[tuple[str, int], models.Model] = {}
    previous: dict[tuple[str, int], models.Model] = {}
    for key, ids in by_kind.items():
        history = KINDS_BY_KEY[key].history_model
        before = history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        page = history.objects.filter(history_id__in=ids)
        previous_ids = page.annotate(
            previous_hid=Subquery(before.order_by("-history_id").values("history_id")[:1])
        ).values("previous_hid")
        # The page's rows and the version before each, in one query per kind: on PostgreSQL one
        # IN over a UNION (an OR of the two scanned the whole history table); SQLite allows no
        # ordered subquery in a UNION, and the OR costs it nothing.
        if connection.features.supports_slicing_ordering_in_compound:
            wanted = models.Q(history_id__in=page.values("history_id").union(previous_ids))
        else:
            wanted = models.Q(history_id__in=ids) | models.Q(history_id__in=previous_ids)
        found = sorted(
            history.objects.filter(wanted).select_related("history_user"), key=lambda r: r.history_id
        )
        latest: dict[object, models.Model] = {}
        wanted = set(ids)
        for record in found:  # oldest first: the one seen last for an object is the one before
            if record.history_id in wanted:
                records[(key, record.history_id)] = record
                previous[(key, record.history_id)] = latest.get(record.id)
            latest[record.id] = record
    proposal_ids = {row[6] for row in rows if row[6] is not None}
    titles = dict(
        apps.get_model("proposals.proposal")
        ._base_manager.filter(pk__in=proposal_ids)
        .values_list("pk", "title")
    )
    snapshots = _m2m_snapshots(records.values(), previous.values())
    fmt = _Formatter()
    entries = []
    for key, hid, *_rest, proposal_id in rows:
        kind = KINDS_BY_KEY[key]
        record, prior = records[(key, hid)], previous[(key, hid)]
        entry = Entry(kind, record, prior, proposal_id, titles.get(proposal_id, ""))
        for f in _diff_fields(kind):
            after = getattr(record, f.attname)
            before = getattr(prior, f.attname) if prior is not None else None
            if record.history_type == "~" and prior is not None and before == after:
                continue
            if record.history_type != "~" and after in (None, ""):
                continue
            fmt.want(f, before)
            fmt.want(f, after)
            entry.changes.append((f, before, after))
        for f in record._history_m2m_fields:
            after = snapshots.get((type(record), f.name, record.history_id), frozenset())
            before = snapshots.get((type(record), f.name, getattr(prior, "history_id", None)), frozenset())
            if (record.history_type == "~" and before == after) or (record.history_type != "~" and not after):
                continue
            fmt.want(f, before | after)
            entry.changes.append((f, before, after))
        entries.append(entry)
    fmt.fetch()
    for entry in entries:
        deleted = entry.record.history_type == "-"
        entry.changes = [
            Change(
                str(f.verbose_name).capitalize(),
                fmt(f, after if deleted else before) if (deleted or entry.previous is not None) else "—",
                "—" if deleted else fmt(f, after),
            )
            for f, before, after in entry.changes
        ]
    return entries


def _m2m_snapshots(*groups) -> dict[tuple, frozenset]:
    """The many-to-many values (affiliations) kept with each recorded version on the page:
    {(history model, field name, history_id): ids}, one query per tracked field."""
    by_model: dict[type, set[int]] = {}
    for group in groups:
        for record in group:
            if record is not None and record._history_m2m_fields:
                by_model.setdefault(type(record), set()).add(record.history_id)
    found: dict[tuple, set] = {}
    for history_model, ids in by_model.items():
        for f in history_model._history_m2m_fields:
            snapshot = history_model.__dict__[f.name].model
            target = f"{f.m2m_reverse_field_name()}_id"
            for hid, value in snapshot.objects.filter(history_id__in=ids).values_list("history_id", target):
                found.setdefault((history_model, f.name, hid), set()).add(value)
    return {key: frozenset(values) for key, values in found.items()}


# --------------------------------------------------------------------------- the page


class AuditFilterForm(forms.Form):
    """Filters typed, not chosen from lists: a programme has thousands of proposals and
    organisations, and a list of them all would weigh more than the page."""

    proposal = forms.IntegerField(
        label=gettext_lazy("Proposal number"),
        min_value=1,
        required=False,
        help_text=gettext_lazy("As shown after # in the Proposal column."),
    )
    organisation = forms.CharField(
        label=gettext_lazy("Organisation"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("Its acronym, e.g. WPM."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Record"), required=False)

    def __init__(self, *args, programme_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme_id = programme_id
        self.fields["kind"].choices = [("", _("All"))] + [
            (k.key, str(k.model._meta.verbose_name_plural).capitalize()) for k in KINDS
        ]
        for name, field_ in self.fields.items():
            field_.widget.attrs["class"] = "form-select" if name == "kind" else "form-control"

    def clean_proposal(self):
        number = self.cleaned_data["proposal"]
        if number is None:
            return None
        proposals = apps.get_model("proposals.proposal")._base_manager.filter(pk=number)
        if self.programme_id is not None:
            proposals = proposals.filter(cop__country_programme_id=self.programme_id)
        if not proposals.exists():
            raise ValidationError(
                _("There is no proposal #%(number)s in your programme."),
                code="unknown_proposal",
                params={"number": number},
            )
        return number

    def clean_organisation(self):
        """An acronym (any case) or an organisation's number."""
        value = self.cleaned_data["organisation"].strip()
        if not value:
            return None
        organisations = Organisation.objects.all()
        if self.programme_id is not None:
            organisations = organisations.filter(country_programme_id=self.programme_id)
        found = (
            organisations.filter(pk=int(value))
            if value.isdigit()
            else organisations.filter(acronym__iexact=value)
        ).first()
        if found is None:
            raise ValidationError(
                _("No organisation of your programme has the acronym %(value)s."),
                code="unknown_organisation",
                params={"value": value},
            )
        return found.pk


class AuditTrailView(LoginRequiredMixin, TemplateView):
    """Read-only: GET only (anything else is 405). Paged by cursor (`before` / `after`): no page
    counts the whole trail."""

    template_name = "ccop/audit_trail.html"
    http_method_names = ["get", "head"]

    def get_context_data(self, **kwargs):
        programme_id = audit_programme_of(self.request.user)
        form = AuditFilterForm(self.request.GET or None, programme_id=programme_id)
        filters = form.cleaned_data if form.is_valid() else {}
        before = Cursor.parse(self.request.GET.get("before"))
        after = Cursor.parse(self.request.GET.get("after")) if before is None else None
        rows = list(
            audit_entries(
                programme_id=programme_id,
                proposal_id=filters.get("proposal"),
                organisation_id=filters.get("organisation"),
                kind=filters.get("kind") or None,
                before=before,
                after=after,
                limit=PAGE_SIZE + 1,
            )
        )
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        if after is not None:
            rows.reverse()  # read oldest first past the cursor: show newest first
        query = self.request.GET.copy()
        for key in ("before", "after"):
            query.pop(key, None)
        query = query.urlencode()
        older = str(Cursor.of(rows[-1])) if rows and (more or after is not None) else None
        newer = (
            str(Cursor.of(rows[0])) if rows and (before is not None or (after is not None and more)) else None
        )
        programme = self.request.user.country_programme if programme_id is not None else None
        return super().get_context_data(
            form=form,
            entries=audit_page_entries(rows),
            older=urlencode({"before": older}) if older else None,
            newer=urlencode({"after": newer}) if newer else None,
            paged=before is not None or after is not None,
            query=query,
            programme=programme,
            **kwargs,
        )


# --------------------------------------------------------------------------- the admin's history pages


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's admin with its history pages read-only and scoped.

    simple-history's "revert" form saves any POST, with no change permission asked (view
    permission is enough) and for objects outside the admin's scoped queryset;
    SIMPLE_HISTORY_REVERT_DISABLED only hides its button. Here any POST there is refused, and
    both history pages answer 404 for an object the admin's own queryset does not show."""

    def revert_disabled(self, request, obj=None):
        return True

    def _may_see(self, request, object_id) -> bool:
        if request.user.is_superuser:
            return True
        try:
            return self.get_queryset(request).filter(pk=unquote(object_id)).exists()
        except (ValueError, ValidationError):
            return False

    def history_view(self, request, object_id, extra_context=None):
        if not self._may_see(request, object_id):
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied(_("Recorded history cannot be changed or reverted."))
        if not self._may_see(request, object_id):
            raise Http404
        request.ccop_history_form = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A past version shows each related object by its id and name, not as a list of every
        object it could name (a grant's proposal among thousands, each name one more query)."""
        if getattr(request, "ccop_history_form", False):
            kwargs["widget"] = ForeignKeyRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
