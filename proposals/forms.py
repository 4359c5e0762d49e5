"""Forms of the proposal pages. They parse and show; the rules are in `proposals.services`, which
checks everything again (a form may call a service's check in `clean()` to show the error on
the field).

The edit page's formsets are plain `forms.Form` formsets fed from one read of the proposal's
rows, with every choice list built once and shared by all rows: a `ModelChoiceField` per row
would query once per row, and its `id` field once per posted row."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from ccop import money
from ccop.models import RightsholderGroup

from . import services
from .models import BudgetLine, ExchangeRate, PlannedActivity, Proposal
from .selectors import PlanData


def _e(value) -> str:
    """Escape for HTML (the standard library's escape: Django's lazy-aware one is ten times slower
    and this runs some 20,000 times on a large page)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {key}" if value is True else f' {key}="{_e(value)}"'
        for key, value in attrs.items()
        if value is not False and value is not None
    )


class FastRenderMixin:
    """Render a widget in Python instead of through the template engine: an edit page of 300
    budget lines has some 3,000 widgets, and template-rendered widgets made it take seconds.
    The attributes (id, aria-describedby, aria-invalid...) still come from Django's BoundField."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        return mark_safe(self.html(widget))  # noqa: S308 - every part escaped by _e

    def html(self, widget: dict) -> str:
        value = widget["value"]
        value_attr = f' value="{_e(value)}"' if value not in (None, "") else ""
        return f'<input type="{_e(widget["type"])}" name="{_e(widget["name"])}"{value_attr}{_attrs(widget["attrs"])}>'


class FastTextInput(FastRenderMixin, forms.TextInput):
    pass


class FastNumberInput(FastRenderMixin, forms.NumberInput):
    pass


class FastDateInput(FastRenderMixin, forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):  # noqa: A002 - Django's argument name
        super().__init__(attrs, format)


class FastHiddenInput(FastRenderMixin, forms.HiddenInput):
    pass


class FastCheckboxInput(FastRenderMixin, forms.CheckboxInput):
    pass


class FastTextarea(FastRenderMixin, forms.Textarea):
    def html(self, widget: dict) -> str:
        return f'<textarea name="{_e(widget["name"])}"{_attrs(widget["attrs"])}>\n{_e(widget["value"] or "")}</textarea>'


class FastSelect(FastRenderMixin, forms.Select):
    def html(self, widget: dict) -> str:
        options = "".join(
            f'<option value="{_e(option["value"])}"{" selected" if option["selected"] else ""}>{_e(option["label"])}</option>'
            for _group, group_options, _index in widget["optgroups"]
            for option in group_options
        )
        return f'<select name="{_e(widget["name"])}"{_attrs(widget["attrs"])}>{options}</select>'


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def group_label(group: RightsholderGroup) -> str:
    """A rightsholder group's name in the page's language."""
    return group.label


def _model_field(model, name: str, **kwargs) -> forms.Field:
    """The model field's own form field: its label, length and help text in one place."""
    return model._meta.get_field(name).formfield(**kwargs)


class BootstrapMixin:
    """Bootstrap classes on every widget, and each field as a grid cell rendered in Python
    (label, widget, help text and errors, the widget pointing at them with aria-describedby):
    a template include per field costs too much on a page of 300 rows."""

    CELLS: tuple[tuple[str, str], ...] = ()

    def cell(self, name: str, col: str = "col-12") -> str:
        field = self[name]
        widget, label, auto_id = str(field), _e(field.label), _e(field.auto_id)
        if isinstance(field.field.widget, forms.CheckboxInput):
            inner = f'<div class="form-check">{widget} <label class="form-check-label" for="{auto_id}">{label}</label></div>'
        else:
            # The required mark is drawn by CSS (.required::after): 50 bytes less per field of a
            # page of rows.
            required = " required" if field.field.required else ""
            inner = f'<label class="form-label small mb-1{required}" for="{auto_id}">{label}</label>{widget}'
        if field.help_text:
            inner += f'<div id="{auto_id}_helptext" class="form-text">{_e(field.help_text)}</div>'
        if field.errors:
            messages = " ".join(_e(error) for error in field.errors)
            inner += f'<div id="{auto_id}_error" class="invalid-feedback d-block">{messages}</div>'
        return mark_safe(f'<div class="{col}">{inner}</div>')  # noqa: S308 - every part escaped by _e

    def cells(self) -> list[str]:
        return [self.cell(name, col) for name, col in self.CELLS if name in self.fields]

    def _style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
                css = "form-select"
            elif isinstance(widget, forms.HiddenInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            else:
                css = "form-control"
            widget.attrs["class"] = css


# --------------------------------------------------------------------------- create


class ProposalCreateForm(forms.Form):
    cop = forms.ModelChoiceField(
        label=_("Community of practice"),
        queryset=None,
        empty_label=_("Choose a CoP"),
        help_text=_("The CoP whose member organisations file the proposal together."),
    )
    fund = forms.ModelChoiceField(
        label=_("Fund"),
        queryset=None,
        empty_label=_("Choose an open fund"),
        help_text=_("Only funds open today in the CoP's country programme are listed."),
    )
    title = _model_field(Proposal, "title", help_text=_("A short name for the joint project."))

    def __init__(self, *args, user, cops, funds, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["cop"].queryset = cops
        self.fields["fund"].queryset = funds
        self.fields["fund"].label_from_instance = lambda fund: (
            _("%(name)s (%(currency)s, open until %(closes)s)")
            % {"name": fund.name, "currency": fund.currency, "closes": fund.closes_on.isoformat()}
        )

    def clean(self):
        cleaned = super().clean()
        cop, fund = cleaned.get("cop"), cleaned.get("fund")
        if cop and fund:
            try:
                services.proposal_check_create(cop=cop, fund=fund, acting_user=self.user)
            except ValidationError as exc:
                self.add_error("fund", exc)
        return cleaned


# --------------------------------------------------------------------------- edit: narrative


class NarrativeForm(BootstrapMixin, forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    title = _model_field(Proposal, "title")
    problem_analysis = _model_field(
        Proposal,
        "problem_analysis",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Who faces which problem, and why, as your consultation workshops found it."),
    )
    objectives = _model_field(
        Proposal, "objectives", widget=forms.Textarea(attrs={"rows": 4}), help_text=_("What will change.")
    )
    target_groups = forms.ModelMultipleChoiceField(
        label=_("Target rightsholder groups"),
        queryset=RightsholderGroup.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    provinces = _model_field(Proposal, "provinces", help_text=_("For example: Battambang, Siem Reap."))
    starts_on = _model_field(Proposal, "starts_on", widget=DATE_WIDGET)
    ends_on = _model_field(Proposal, "ends_on", widget=DATE_WIDGET)
    budget_option = forms.TypedChoiceField(
        label=_("Budget management option"),
        choices=Proposal.BudgetOption.choices,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    phase = forms.ModelChoiceField(label=_("CoP phase"), queryset=None, required=False)

    FIELDS = (
        "title",
        "problem_analysis",
        "objectives",
        "target_groups",
        "provinces",
        "starts_on",
        "ends_on",
        "budget_option",
        "phase",
    )

    def __init__(self, *args, proposal: Proposal, has_phases: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_groups"].label_from_instance = group_label
        if has_phases:
            self.fields["phase"].queryset = proposal.cop.phases.all()
            self.fields["phase"].empty_label = _("No particular phase")
        else:
            del self.fields["phase"]
        self._style()

    @classmethod
    def initial_for(cls, proposal: Proposal, target_group_ids: list[int]) -> dict:
        initial = {name: getattr(proposal, name) for name in cls.FIELDS if name != "target_groups"}
        initial.update(revision=proposal.revision, target_groups=target_group_ids, phase=proposal.phase_id)
        return initial

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS if name in self.fields}


# --------------------------------------------------------------------------- edit: rows


class RowFormSet(forms.BaseFormSet):
    """A formset of plain forms whose rows carry their database `id` in a hidden field."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove when I save")
            form.fields["DELETE"].widget = FastCheckboxInput(attrs={"class": "form-check-input"})

    def new_form(self) -> forms.Form:
        """An empty row after the posted ones (the "add another" button, with or without htmx)."""
        index = self.total_form_count()
        return self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix(index),
            use_required_attribute=False,
            empty_permitted=True,
            renderer=self.renderer,
            **self.get_form_kwargs(index),
        )

    def kept_forms(self) -> list[forms.Form]:
        """Rows to save: not marked for removal and not blank new rows."""
        return [
            form
            for i, form in enumerate(self.forms)
            if not self._should_delete_form(form) and (i < self.initial_form_count() or form.has_changed())
        ]


class ActivityForm(BootstrapMixin, forms.Form):
    id = forms.IntegerField(widget=FastHiddenInput, required=False)
    title = _model_field(PlannedActivity, "title", widget=FastTextInput)
    description = _model_field(PlannedActivity, "description", widget=FastTextarea(attrs={"rows": 2}))
    starts_on = _model_field(PlannedActivity, "starts_on", widget=FastDateInput)
    ends_on = _model_field(PlannedActivity, "ends_on", widget=FastDateInput)
    place = _model_field(PlannedActivity, "place", widget=FastTextInput)
    is_primary = forms.BooleanField(
        label=_("Primary activity (needs a draft agenda)"),
        required=False,
        initial=True,
        widget=FastCheckboxInput,
    )
    agenda = _model_field(
        PlannedActivity,
        "agenda",
        widget=FastTextarea(attrs={"rows": 4}),
        help_text=_("One line per session: time and what happens."),
    )

    CELLS = (
        ("title", "col-12 col-md-6"),
        ("place", "col-12 col-md-6"),
        ("starts_on", "col-6 col-md-3"),
        ("ends_on", "col-6 col-md-3"),
        ("is_primary", "col-12 col-md-6 align-self-end"),
        ("description", "col-12"),
        ("agenda", "col-12"),
    )

    def __init__(self, *args, groups: list[RightsholderGroup], **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = groups
        for group in groups:
            self.fields[f"participants_{group.code}"] = forms.IntegerField(
                label=group_label(group),
                min_value=0,
                max_value=1_000_000,
                required=False,
                widget=FastNumberInput,
            )
        self._style()

    def participant_cells(self) -> list[str]:
        return [self.cell(f"participants_{group.code}", "col-6 col-md") for group in self.groups]

    @staticmethod
    def initial_for(activity: PlannedActivity) -> dict:
        initial = {name: getattr(activity, name) for name in services.ACTIVITY_FIELDS}
        initial["id"] = activity.pk
        for participation in activity.expected_participants.all():
            initial[f"participants_{participation.rightsholder_group.code}"] = participation.number
        return initial

    def service_row(self) -> dict:
        data = self.cleaned_data
        row = {name: data[name] for name in services.ACTIVITY_FIELDS}
        row["id"] = data.get("id")
        row["participants"] = {group: data.get(f"participants_{group.code}") for group in self.groups}
        return row


@dataclass
class ActivityChoices:
    """The activities a budget line may name, by their number on the page (Activity 1, 2...)."""

    activities: list[PlannedActivity]

    def label(self, activity_id: int | None) -> str:
        for number, activity in enumerate(self.activities, start=1):
            if activity.pk == activity_id:
                return f"{number} · {activity.title}"
        return ""

    def options(self) -> list[str]:
        return [f"{number} · {a.title}" for number, a in enumerate(self.activities, start=1)]

    def parse(self, value: str) -> int | None:
        value = (value or "").strip()
        if not value:
            return None
        match = re.match(r"^(\d+)\b", value)
        if match and 1 <= int(match.group(1)) <= len(self.activities):
            return self.activities[int(match.group(1)) - 1].pk
        titled = [a for a in self.activities if a.title.strip().casefold() == value.casefold()]
        if len(titled) == 1:
            return titled[0].pk
        raise ValidationError(
            _("Choose an activity from the list: its number (1 to %(n)s), or leave it empty."),
            code="unknown_activity",
            params={"n": len(self.activities)},
        )


class BudgetLineForm(BootstrapMixin, forms.Form):
    id = forms.IntegerField(widget=FastHiddenInput, required=False)
    category = forms.ChoiceField(label=_("Category"), widget=FastSelect)
    description = _model_field(BudgetLine, "description", widget=FastTextInput)
    unit = _model_field(BudgetLine, "unit", widget=FastTextInput)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=FastNumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    unit_cost = forms.DecimalField(
        label=_("Unit cost"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=FastNumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), widget=FastSelect)
    # One list of the activities for the whole page (ACTIVITY_LIST, a <datalist>), not a
    # <select> repeating every activity in every row: 300 rows of 20 activities weighed 400 KB.
    activity = forms.CharField(
        label=_("Activity"),
        required=False,
        max_length=300,
        help_text=None,
        widget=FastTextInput(attrs={"list": "activity-list", "autocomplete": "off"}),
    )

    CELLS = (
        ("category", "col-12 col-md-3"),
        ("description", "col-12 col-md-5"),
        ("activity", "col-12 col-md-4"),
        ("unit", "col-6 col-md-2"),
        ("quantity", "col-6 col-md-2"),
        ("unit_cost", "col-6 col-md-3"),
        ("currency", "col-6 col-md-2"),
    )

    def __init__(
        self, *args, category_choices, currency_choices, activity_choices, default_currency, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices
        self.fields["currency"].choices = currency_choices
        self.fields["currency"].initial = default_currency  # a new row left alone is not "changed"
        self.activity_choices: ActivityChoices = activity_choices
        self._style()

    def clean_activity(self) -> int | None:
        """The activity's id, from its number on the page ("3", or "3 · Title" as the list
        offers it) or its exact title."""
        return self.activity_choices.parse(self.cleaned_data["activity"])

    @staticmethod
    def initial_for(line: BudgetLine, choices: ActivityChoices) -> dict:
        initial = {name: getattr(line, name) for name in services.BUDGET_LINE_FIELDS if name != "activity"}
        initial.update(id=line.pk, activity=choices.label(line.activity_id))
        return initial

    def service_row(self, activities: dict[int, PlannedActivity]) -> dict:
        data = self.cleaned_data
        row = {name: data[name] for name in services.BUDGET_LINE_FIELDS if name != "activity"}
        row["id"] = data.get("id")
        row["activity"] = activities.get(data["activity"]) if data.get("activity") else None
        return row

    def unsaved_line(self) -> BudgetLine | None:
        """The line as typed, for totals, when its amount fields are valid (else None)."""
        data = getattr(self, "cleaned_data", {})
        if not all(
            data.get(name) not in (None, "") for name in ("category", "quantity", "unit_cost", "currency")
        ):
            return None
        activity = data.get("activity") or None
        return BudgetLine(
            category=data["category"],
            quantity=data["quantity"],
            unit_cost=data["unit_cost"],
            currency=data["currency"],
            activity_id=activity,
        )


class RatesForm(BootstrapMixin, forms.Form):
    """One rate per currency other than the fund's: 1 unit of it in the fund's currency."""

    def __init__(self, *args, currencies: list[str], fund_currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currencies = currencies
        rate_field = ExchangeRate._meta.get_field("rate")
        for currency in currencies:
            self.fields[f"rate_{currency}"] = forms.DecimalField(
                label=_("1 %(currency)s in %(fund)s") % {"currency": currency, "fund": fund_currency},
                max_digits=rate_field.max_digits,
                decimal_places=rate_field.decimal_places,
                min_value=Decimal("0.00000001"),
                max_value=money.MAX_RATE,
                required=False,
                widget=FastNumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
            self.fields[f"rate_{currency}"].widget.attrs["min"] = "0.00000001"
        self._style()

    def service_rates(self) -> dict[str, Decimal | None]:
        return {currency: self.cleaned_data.get(f"rate_{currency}") for currency in self.currencies}

    def typed_rates(self) -> dict[str, Decimal]:
        """The valid rates as typed (for totals of unsaved input)."""
        data = getattr(self, "cleaned_data", {})
        return {c: data[f"rate_{c}"] for c in self.currencies if data.get(f"rate_{c}")}


ActivityFormSet = forms.formset_factory(ActivityForm, formset=RowFormSet, extra=0, can_delete=True)
BudgetLineFormSet = forms.formset_factory(BudgetLineForm, formset=RowFormSet, extra=0, can_delete=True)
LINES_PER_PAGE = 25  # keeps the edit page of a 300-line budget well under 200 KB of HTML


@dataclass(frozen=True)
class LinesNav:
    """Which budget lines a page shows (the edit and detail pages of a large budget)."""

    page: int
    pages: int
    start: int
    end: int
    total: int

    @property
    def first(self) -> int:
        return self.start + 1

    @property
    def numbers(self) -> range:
        return range(1, self.pages + 1)

    @classmethod
    def of(cls, total: int, page: int, per_page: int) -> LinesNav:
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        start = (page - 1) * per_page
        return cls(page, pages, start, min(start + per_page, total), total)


def _as_row(line: BudgetLine, activities: dict[int, PlannedActivity]) -> dict:
    """A saved line as `proposal_save_plan` takes it, unchanged (a line of another page)."""
    row = {name: getattr(line, name) for name in services.BUDGET_LINE_FIELDS if name != "activity"}
    row.update(id=line.pk, activity=activities.get(line.activity_id))
    return row


# --------------------------------------------------------------------------- edit: the page


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's error on the form's fields where it names one, else on the form."""
    items = error.error_dict.items() if hasattr(error, "error_dict") else [(None, error.error_list)]
    for field, errors in items:
        form.add_error(field if field in form.fields else None, ValidationError(list(errors)))


@dataclass
class ProposalEditForms:
    """Every form of the edit page, built from one `PlanData` read; `data` binds them to a POST."""

    proposal: Proposal
    plan: PlanData
    data: dict | None = None
    lines_page: int = 1

    def __post_init__(self) -> None:
        plan, data, proposal = self.plan, self.data, self.proposal
        # Budget lines are edited LINES_PER_PAGE at a time; the lines of the other pages are
        # saved as they are (the service receives the whole list, as always).
        pages = max(1, -(-len(plan.lines) // LINES_PER_PAGE))
        self.lines_pages = pages
        self.lines_page = min(max(1, self.lines_page), pages)
        self.lines_start = (self.lines_page - 1) * LINES_PER_PAGE if pages > 1 else 0
        self.lines_end = (
            min(self.lines_start + LINES_PER_PAGE, len(plan.lines)) if pages > 1 else len(plan.lines)
        )
        self.page_lines = plan.lines[self.lines_start : self.lines_end]
        self.activity_choices = ActivityChoices(plan.activities)
        self.narrative = NarrativeForm(
            data,
            initial=NarrativeForm.initial_for(proposal, plan.target_group_ids),
            proposal=proposal,
            has_phases=plan.has_phases,
        )
        self.activities = ActivityFormSet(
            data,
            initial=None if data is not None else [ActivityForm.initial_for(a) for a in plan.activities],
            prefix="activities",
            form_kwargs={"groups": plan.groups},
        )
        currencies = list(
            dict.fromkeys([*proposal.fund.accepted_currency_list, *(line.currency for line in plan.lines)])
        )
        category_choices = [("", _("Choose a category")), *BudgetLine.Category.choices]
        self.lines = BudgetLineFormSet(
            data,
            initial=None
            if data is not None
            else [BudgetLineForm.initial_for(line, self.activity_choices) for line in self.page_lines],
            prefix="lines",
            form_kwargs={
                "category_choices": category_choices,
                "currency_choices": [(c, c) for c in currencies],
                "activity_choices": self.activity_choices,
                "default_currency": proposal.fund.currency,
            },
        )
        if data is None and not plan.activities:
            self.activities.extra = 1
        if data is None and not plan.lines:
            self.lines.extra = 1
        rate_currencies = sorted(
            {*proposal.fund.accepted_currency_list, *(line.currency for line in plan.lines), *plan.rates}
            - {proposal.fund.currency}
        )
        self.rates = RatesForm(
            data,
            initial={f"rate_{c}": r for c, r in plan.rates.items()},
            currencies=rate_currencies,
            fund_currency=proposal.fund.currency,
        )
        self._activity_rows: list[forms.Form] = []
        self._line_rows: list[forms.Form] = []

    @property
    def lines_nav(self) -> LinesNav:
        return LinesNav(
            self.lines_page, self.lines_pages, self.lines_start, self.lines_end, len(self.plan.lines)
        )

    def is_valid(self) -> bool:
        results = [form.is_valid() for form in (self.narrative, self.activities, self.lines, self.rates)]
        return all(results)

    def service_kwargs(self) -> dict:
        """The `proposal_save_plan` arguments; remembers which form each row came from."""
        self._activity_rows = self.activities.kept_forms()
        self._line_rows = self.lines.kept_forms()
        by_pk = {a.pk: a for a in self.plan.activities}
        lines = self.plan.lines
        return {
            "expected_revision": self.narrative.cleaned_data["revision"],
            "narrative": self.narrative.service_data(),
            "activities": [form.service_row() for form in self._activity_rows],
            "budget_lines": [_as_row(line, by_pk) for line in lines[: self.lines_start]]
            + [form.service_row(by_pk) for form in self._line_rows]
            + [_as_row(line, by_pk) for line in lines[self.lines_end :]],
            "rates": self.rates.service_rates(),
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a refusal of `proposal_save_plan` on the rows and fields it names."""
        errors = getattr(exc, "errors", None)
        if errors is None:
            self.narrative.add_error(None, exc)
            return
        for (part, key), error in errors.items():
            if part == "narrative":
                _add_errors(self.narrative, error)
            elif part == "activities":
                _add_errors(self._activity_rows[key], error)
            elif part == "budget_lines":
                index = key - self.lines_start
                if 0 <= index < len(self._line_rows):
                    _add_errors(self._line_rows[index], error)
                else:  # a line of another page (an activity it names is being removed)
                    after = self.lines_end + (key - self.lines_start - len(self._line_rows))
                    number = key + 1 if key < self.lines_start else after + 1
                    for message in error.messages:
                        self.narrative.add_error(
                            None, _("Budget line %(n)s: %(message)s") % {"n": number, "message": message}
                        )
            elif part == "rates":
                self.rates.add_error(f"rate_{key}" if f"rate_{key}" in self.rates.fields else None, error)

    def error_summary(self) -> list[dict]:
        """Every error of the page, each with the id of the field it is about (for a list of
        links at the top of the page)."""
        summary = []

        def add(form, where: str) -> None:
            for name, errors in form.errors.items():
                field = form.fields.get(name)
                if field is None or name == "revision":
                    anchor = f"{form.prefix}-row" if form.prefix else None
                else:
                    anchor = form[name].auto_id
                if field is not None and isinstance(
                    field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect
                ):
                    anchor = f"div_{anchor}"
                label = ": ".join(str(p) for p in (where, field.label if field is not None else "") if p)
                for message in errors:
                    summary.append({"label": label, "message": message, "anchor": anchor})

        add(self.narrative, "")
        for number, form in enumerate(self.activities.forms, start=1):
            add(form, _("Activity %(n)s") % {"n": number})
        for number, form in enumerate(self.lines.forms, start=self.lines_start + 1):
            add(form, _("Budget line %(n)s") % {"n": number})
        add(self.rates, _("Exchange rates"))
        for formset in (self.activities, self.lines):
            for message in formset.non_form_errors():
                summary.append({"label": "", "message": message, "anchor": None})
        return summary

    def typed_totals_input(self) -> tuple[list[BudgetLine], dict[str, Decimal], int]:
        """The budget lines and rates as typed, for totals before saving; and how many non-blank
        lines could not be counted yet (an amount that is not a number)."""
        self.lines.is_valid()
        self.rates.is_valid()
        lines = list(self.plan.lines[: self.lines_start]) + list(self.plan.lines[self.lines_end :])
        skipped = 0
        for i, form in enumerate(self.lines.forms):
            if i >= self.lines.initial_form_count() and not form.has_changed():
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            line = form.unsaved_line()
            if line is None:
                skipped += 1
            else:
                lines.append(line)
        return lines, self.rates.typed_rates(), skipped
