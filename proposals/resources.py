"""django-import-export resources for the admin's list exports (export only; budgets are
imported through the template, `proposals.spreadsheets`).

Numbers stay numbers and dates stay dates (`coerce_to_string=False`; import-export writes text by
default), datetimes are the portal's local time without a time zone (Excel has none). Text is
written as it is: the export formats (`proposals.admin_export`) make formula-like text inert.
Querysets are read with `select_related` / `prefetch_related`, so the number of queries does not
grow with the rows."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from ccop import money
from grants.models import Fund, Grant

from .models import BudgetLine, Proposal
from .selectors import budget_summary
from .spreadsheets import local_naive


class LocalDateTimeWidget(widgets.Widget):
    """A datetime in the portal's time zone, without tzinfo, for every format."""

    def __init__(self):
        super().__init__(coerce_to_string=False)

    def render(self, value, obj=None, **kwargs):
        return local_naive(value)


def _number(**kwargs) -> widgets.DecimalWidget:
    return widgets.DecimalWidget(coerce_to_string=False, **kwargs)


def _date() -> widgets.DateWidget:
    return widgets.DateWidget(coerce_to_string=False)


def _field(attribute: str | None, column_name, widget=None) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column_name, widget=widget or widgets.Widget(False))


class ProposalResource(resources.ModelResource):
    number = _field("pk", _("Proposal no."), widgets.IntegerWidget(coerce_to_string=False))
    title = _field("title", _("Title"))
    cop = _field("cop__name", _("CoP"))
    fund = _field("fund__name", _("Fund"))
    status = _field(None, _("State"))
    applicants = _field(None, _("Applicants"))
    currency = _field("fund__currency", _("Currency"))
    requested = _field(None, _("Requested"))
    approved = _field(None, _("Approved"))
    starts_on = _field("starts_on", _("Starts on"), _date())
    ends_on = _field("ends_on", _("Ends on"), _date())
    submitted_at = _field("submitted_at", _("Submitted at"), LocalDateTimeWidget())
    updated_at = _field("updated_at", _("Last changed"), LocalDateTimeWidget())

    class Meta:
        model = Proposal
        fields = (
            "number",
            "title",
            "cop",
            "fund",
            "status",
            "applicants",
            "currency",
            "requested",
            "approved",
            "starts_on",
            "ends_on",
            "submitted_at",
            "updated_at",
        )
        export_order = fields
        chunk_size = 500

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("cop", "fund", "grant").prefetch_related(
            "applicants__organisation", "budget_lines", "exchange_rates"
        )

    def dehydrate_status(self, proposal):
        return str(proposal.get_status_display())

    def dehydrate_applicants(self, proposal):
        return ", ".join(a.organisation.acronym for a in proposal.applicants.all())

    def dehydrate_requested(self, proposal):
        """The budget's total in the fund's currency; empty while a rate is missing."""
        summary = budget_summary(
            proposal,
            lines=proposal.budget_lines.all(),
            rates={r.currency: r.rate for r in proposal.exchange_rates.all()},
        )
        return summary.total_in_fund_currency

    def dehydrate_approved(self, proposal):
        grant = getattr(proposal, "grant", None)
        return grant.amount if grant else None


class BudgetLineResource(resources.ModelResource):
    proposal_number = _field("proposal_id", _("Proposal no."), widgets.IntegerWidget(coerce_to_string=False))
    proposal = _field("proposal__title", _("Proposal"))
    cop = _field("proposal__cop__name", _("CoP"))
    fund = _field("proposal__fund__name", _("Fund"))
    activity = _field("activity__title", _("Activity"))
    category = _field(None, _("Category"))
    description = _field("description", _("Description"))
    unit = _field("unit", _("Unit"))
    quantity = _field("quantity", _("Quantity"), _number())
    unit_cost = _field("unit_cost", _("Unit cost"), _number())
    currency = _field("currency", _("Currency"))
    line_total = _field(None, _("Line total"))

    class Meta:
        model = BudgetLine
        fields = (
            "proposal_number",
            "proposal",
            "cop",
            "fund",
            "activity",
            "category",
            "description",
            "unit",
            "quantity",
            "unit_cost",
            "currency",
            "line_total",
        )
        export_order = fields
        chunk_size = 2000

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("proposal__cop", "proposal__fund", "activity")

    def dehydrate_category(self, line):
        return str(line.get_category_display())

    def dehydrate_line_total(self, line):
        return line.total


class FundResource(resources.ModelResource):
    name = _field("name", _("Name"))
    programme = _field("country_programme__name", _("Country programme"))
    currency = _field("currency", _("Currency"))
    accepted = _field("accepted_currencies", _("Accepted budget currencies"))
    ceiling = _field("ceiling", _("Ceiling"), _number())
    cap = _field("per_proposal_cap", _("Cap per proposal"), _number())
    approved = _field(None, _("Approved total"))
    remaining = _field(None, _("Remaining"))
    opens_on = _field("opens_on", _("Opens on"), _date())
    closes_on = _field("closes_on", _("Closes on"), _date())

    class Meta:
        model = Fund
        fields = (
            "name",
            "programme",
            "currency",
            "accepted",
            "ceiling",
            "cap",
            "approved",
            "remaining",
            "opens_on",
            "closes_on",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("country_programme")

    def _approved(self, fund):
        # FundAdmin annotates `approved`; anywhere else, one aggregate per fund (few funds).
        approved = getattr(fund, "approved", None)
        return money.quantize(approved) if approved is not None else fund.approved_total()

    def dehydrate_approved(self, fund):
        return self._approved(fund)

    def dehydrate_remaining(self, fund):
        return money.quantize(fund.ceiling - self._approved(fund))


class GrantResource(resources.ModelResource):
    proposal_number = _field("proposal_id", _("Proposal no."), widgets.IntegerWidget(coerce_to_string=False))
    proposal = _field("proposal__title", _("Proposal"))
    cop = _field("proposal__cop__name", _("CoP"))
    fund = _field("fund__name", _("Fund"))
    amount = _field("amount", _("Approved amount"), _number())
    currency = _field("currency", _("Currency"))
    approved_by = _field(None, _("Approved by"))
    approved_at = _field("approved_at", _("Approved at"), LocalDateTimeWidget())
    pdf_sha256 = _field("pdf_sha256", _("PDF SHA-256"))

    class Meta:
        model = Grant
        fields = (
            "proposal_number",
            "proposal",
            "cop",
            "fund",
            "amount",
            "currency",
            "approved_by",
            "approved_at",
            "pdf_sha256",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("proposal__cop", "fund", "approved_by")

    def dehydrate_approved_by(self, grant):
        user = grant.approved_by
        return user.get_full_name() or user.username
