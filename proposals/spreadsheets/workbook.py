"""The budget workbook people download: one proposal's, or a whole fund's.

`write_budget_workbook` streams (openpyxl write-only mode, lines read with `.iterator()` in
chunks, a fixed number of queries) a Summary, a Budget lines and a Subtotals sheet. A budget
versus actual sheet waits for the expense model (not built yet)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook

from ccop import money

from ..models import BudgetLine, ExchangeRate, Proposal
from .cells import DATE_FORMAT, header, local_naive, money_format, text_cell, write_only_sheet

CHUNK_SIZE = 2000


class _Group(dict):
    """Amounts and line counts keyed by (group, currency)."""

    def add(self, key: tuple, amount: Decimal) -> None:
        total, count = self.get(key, (money.ZERO, 0))
        self[key] = (total + amount, count + 1)


@dataclass
class _ProposalFigures:
    by_currency: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: money.ZERO))
    by_category: _Group = field(default_factory=_Group)
    by_activity: _Group = field(default_factory=_Group)


@dataclass
class _Figures:
    """What the Summary and Subtotals sheets need from the lines, gathered while they stream."""

    proposals: dict[int, _ProposalFigures] = field(default_factory=lambda: defaultdict(_ProposalFigures))
    fund_by_category: _Group = field(default_factory=_Group)
    activity_titles: dict[int, str] = field(default_factory=dict)

    def add(self, proposal_id, activity_id, activity_title, category, currency, total) -> None:
        f = self.proposals[proposal_id]
        f.by_currency[currency] += total
        f.by_category.add((category, currency), total)
        f.by_activity.add((activity_id, currency), total)
        self.fund_by_category.add((category, currency), total)
        if activity_id is not None and activity_id not in self.activity_titles:
            self.activity_titles[activity_id] = activity_title


def _convert(amount: Decimal, currency: str, fund_currency: str, rates: dict[str, Decimal]):
    if currency == fund_currency:
        return amount
    rate = rates.get(currency)
    return money.convert(amount, rate) if rate is not None else None


def write_budget_workbook(out: IO[bytes], *, fund, proposals: QuerySet[Proposal], fund_wide: bool) -> None:
    """Write the budget workbook of `proposals` (all of `fund`) to the binary file `out`.

    A fixed number of queries whatever the number of lines; lines are read in chunks of
    `CHUNK_SIZE` and written as they come, so memory does not grow with the lines (only with
    the number of proposals, activities and currencies, for the subtotals). `fund_wide` adds the
    fund's subtotals by category over all proposals."""
    proposal_list = list(
        proposals.select_related("cop", "grant").prefetch_related("applicants__organisation").order_by("pk")
    )
    rates = _rates_by_proposal(proposals)
    category_labels = {code: str(label) for code, label in BudgetLine.Category.choices}

    wb = Workbook(write_only=True)
    summary = write_only_sheet(wb, _("Summary"), [14, 44, 26, 26, 18, 13, 13, 13, 18, 18, 40], "A5")
    lines = write_only_sheet(wb, _("Budget lines"), [11, 40, 32, 30, 45, 12, 11, 18, 10, 18, 20], "A2")
    subtotals = write_only_sheet(wb, _("Subtotals"), [13, 11, 40, 36, 10, 18, 20, 8], "A2")

    figures = _write_lines(*lines, fund.currency, proposals, proposal_list, rates, category_labels)
    _write_summary(*summary, fund, proposal_list, figures.proposals, rates)
    _write_subtotals(
        *subtotals,
        fund.currency,
        proposal_list,
        figures.proposals,
        rates,
        category_labels,
        figures.activity_titles,
        figures.fund_by_category if fund_wide else None,
    )
    wb.save(out)


def _rates_by_proposal(proposals: QuerySet[Proposal]) -> dict[int, dict[str, Decimal]]:
    rates: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for proposal_id, currency, rate in ExchangeRate.objects.filter(
        proposal__in=proposals.values("pk")
    ).values_list("proposal_id", "currency", "rate"):
        rates[proposal_id][currency] = rate
    return rates


def _write_lines(ws, styled, fund_currency, proposals, proposal_list, rates, category_labels) -> _Figures:
    """The Budget lines sheet, one row per line as the lines stream from one query."""
    by_pk = {p.pk: p for p in proposal_list}
    fund_money = money_format(fund_currency)
    header(
        ws,
        styled,
        [
            _("Proposal no."),
            _("Proposal"),
            _("Activity"),
            _("Category"),
            _("Description"),
            _("Unit"),
            _("Quantity"),
            _("Unit cost"),
            _("Currency"),
            _("Line total"),
            _("Total in %(currency)s") % {"currency": fund_currency},
        ],
    )
    lines = (
        BudgetLine.objects.filter(proposal__in=proposals.values("pk"))
        .order_by("proposal_id", "order", "pk")
        .values_list(
            "proposal_id",
            "activity_id",
            "activity__title",
            "category",
            "description",
            "unit",
            "quantity",
            "unit_cost",
            "currency",
        )
    )
    figures = _Figures()
    formats: dict[str, str] = {}
    row_count = 1
    for (
        proposal_id,
        activity_id,
        activity_title,
        category,
        description,
        unit,
        qty,
        cost,
        cur,
    ) in lines.iterator(chunk_size=CHUNK_SIZE):
        proposal = by_pk.get(proposal_id)
        if proposal is None:  # a proposal added between the two queries
            continue
        total = money.line_total(qty, cost)
        converted = _convert(total, cur, fund_currency, rates.get(proposal_id, {}))
        line_format = formats.get(cur) or formats.setdefault(cur, money_format(cur))
        ws.append(
            [
                proposal_id,
                text_cell(ws, proposal.title),
                text_cell(ws, activity_title),
                category_labels.get(category, category),
                text_cell(ws, description),
                text_cell(ws, unit),
                qty,
                styled(cost, line_format),
                cur,
                styled(total, line_format),
                styled(converted, fund_money),
            ]
        )
        row_count += 1
        figures.add(proposal_id, activity_id, activity_title, category, cur, total)
    ws.auto_filter.ref = f"A1:K{row_count}"
    return figures


def _requested(figures: _ProposalFigures, fund_currency: str, rates: dict[str, Decimal]):
    """The requested total as the rest of the portal computes it (`BudgetSummary`): each
    currency's subtotal converted, then added. None while a rate is missing."""
    try:
        return money.total_in(fund_currency, dict(figures.by_currency), rates)
    except money.MoneyError:
        return None


def _write_summary(ws, styled, fund, proposals, figures, rates) -> None:
    fund_money = money_format(fund.currency)
    requested = {p.pk: _requested(figures[p.pk], fund.currency, rates.get(p.pk, {})) for p in proposals}
    known = [amount for amount in requested.values() if amount is not None]
    approved_total = fund.approved_total()
    header(
        ws,
        styled,
        [
            _("Fund"),
            _("Currency"),
            _("Ceiling"),
            _("Approved total"),
            _("Remaining"),
            _("Requested by these proposals"),
        ],
    )
    ws.append(
        [
            text_cell(ws, fund.name),
            fund.currency,
            styled(fund.ceiling, fund_money),
            styled(approved_total, fund_money),
            styled(money.quantize(fund.ceiling - approved_total), fund_money),
            styled(money.quantize(sum(known, money.ZERO)), fund_money),
        ]
    )
    ws.append([])
    header(
        ws,
        styled,
        [
            _("Proposal no."),
            _("Title"),
            _("CoP"),
            _("Applicants"),
            _("State"),
            _("Starts on"),
            _("Ends on"),
            _("Submitted on"),
            _("Requested (%(currency)s)") % {"currency": fund.currency},
            _("Approved (%(currency)s)") % {"currency": fund.currency},
            _("Note"),
        ],
    )
    for proposal in proposals:
        grant = getattr(proposal, "grant", None)
        missing = sorted(
            c
            for c in figures[proposal.pk].by_currency
            if c != fund.currency and c not in rates.get(proposal.pk, {})
        )
        note = (
            _("No exchange rate recorded for %(currencies)s.") % {"currencies": ", ".join(missing)}
            if missing
            else ""
        )
        submitted = local_naive(proposal.submitted_at)
        ws.append(
            [
                proposal.pk,
                text_cell(ws, proposal.title),
                text_cell(ws, proposal.cop.name),
                text_cell(ws, ", ".join(a.organisation.acronym for a in proposal.applicants.all())),
                str(proposal.get_status_display()),
                styled(proposal.starts_on, DATE_FORMAT),
                styled(proposal.ends_on, DATE_FORMAT),
                styled(submitted.date() if submitted else None, DATE_FORMAT),
                styled(requested[proposal.pk], fund_money),
                styled(grant.amount if grant else None, fund_money),
                note or None,
            ]
        )


def _write_subtotals(
    ws, styled, fund_currency, proposals, figures, rates, category_labels, activity_titles, fund_wide
) -> None:
    fund_money = money_format(fund_currency)
    header(
        ws,
        styled,
        [
            _("Subtotal by"),
            _("Proposal no."),
            _("Proposal"),
            _("Category or activity"),
            _("Currency"),
            _("Amount"),
            _("Amount in %(currency)s") % {"currency": fund_currency},
            _("Lines"),
        ],
    )
    by_category, by_activity = _("Category"), _("Activity")
    not_linked = _("Not linked to one activity")
    category_order = {code: i for i, code in enumerate(category_labels)}

    def rows(kind, proposal, group: _Group, label, order, proposal_rates):
        for (key, currency), (amount, count) in sorted(
            group.items(), key=lambda i: (order(i[0][0]), i[0][1])
        ):
            ws.append(
                [
                    kind,
                    proposal.pk if proposal else None,
                    text_cell(ws, proposal.title) if proposal else _("All proposals"),
                    text_cell(ws, label(key)),
                    currency,
                    styled(money.quantize(amount), money_format(currency)),
                    # Across proposals the rates differ: the fund-wide rows stay in their currency.
                    styled(_convert(amount, currency, fund_currency, proposal_rates), fund_money)
                    if proposal
                    else None,
                    count,
                ]
            )

    def category(code):
        return category_labels.get(code, code)

    def activity(pk):
        return activity_titles.get(pk, not_linked) if pk else not_linked

    for proposal in proposals:
        f = figures.get(proposal.pk)
        if f is None:
            continue
        proposal_rates = rates.get(proposal.pk, {})
        rows(
            by_category,
            proposal,
            f.by_category,
            category,
            lambda c: category_order.get(c, 99),
            proposal_rates,
        )
        rows(by_activity, proposal, f.by_activity, activity, lambda a: (a is None, a or 0), proposal_rates)
    if fund_wide:
        rows(by_category, None, fund_wide, category, lambda c: category_order.get(c, 99), {})
