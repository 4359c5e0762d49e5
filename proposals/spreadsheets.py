"""Budget spreadsheets: the workbooks people download (one proposal, a whole fund), the budget
template, and the template's reader.

Writing
    `write_budget_workbook` streams (openpyxl write-only mode, lines read with `.iterator()` in
    chunks, a fixed number of queries) a Summary, a Budget lines and a Subtotals sheet. Numbers
    are numbers with a currency number format, dates are dates, headers are frozen, columns are
    sized. Text that came from people and looks like a formula is written as a string cell with
    Excel's quote prefix, so neither Excel nor LibreOffice ever runs it (`text_cell`).
    A budget versus actual sheet waits for the expense model (not built yet).

Reading
    `read_budget_upload` checks the file before openpyxl sees it (size, container, macros, zip
    bomb, XML DTDs), reads the values without evaluating anything, refuses formulas where values
    are expected, and returns a preview: every row as it will be saved and every error with its
    row and column in plain words. It never writes; `services.budget_import_apply` does, once the
    person confirms.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import io
import logging
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from ccop import money

from .models import BudgetLine, ExchangeRate, PlannedActivity, Proposal
from .services import BUDGET_IMPORT_MAX_LINES

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_ROWS = BUDGET_IMPORT_MAX_LINES
# How far down the Budget sheet is read, blank rows included: a budget never goes past it, and a
# tiny file whose last row is row 1,048,576 would otherwise cost seconds of reading.
MAX_SHEET_ROWS = 20 * MAX_ROWS
CHUNK_SIZE = 2000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

logger = logging.getLogger(__name__)

# What starts a formula in Excel, LibreOffice or Google Sheets (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
NUMBER_FORMAT = "#,##0.00"
BOLD = Font(bold=True)

# The template's columns: (key, heading). Headings stay in English in every language, so one
# reader understands every template; the Instructions sheet explains them in English and Khmer.
TEMPLATE_COLUMNS = [
    ("category", "Category"),
    ("description", "Description"),
    ("unit", "Unit"),
    ("quantity", "Quantity"),
    ("unit_cost", "Unit cost"),
    ("currency", "Currency"),
    ("activity", "Activity"),
]
TEMPLATE_WIDTHS = [32, 48, 14, 12, 16, 11, 40]
TEMPLATE_SHEET = "Budget"
LISTS_SHEET = "Lists"
INSTRUCTIONS_SHEET = "Instructions"


# --------------------------------------------------------------------------- cells


def money_format(currency: str) -> str:
    """A number format that shows the currency after the amount: 1,234.50 EUR."""
    return f'#,##0.00 "{currency}"'


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def clean_text(value: str) -> str:
    """Drop the control characters XML cannot hold (openpyxl would refuse the whole file)."""
    return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)


def text_cell(ws, value: str | None):
    """A cell for text that came from people. Text that looks like a formula becomes a string
    cell (never `t="f"`) with the quote prefix, Excel's own mark for "typed as text": shown as
    typed, never calculated, not even after someone edits the cell."""
    if value is None or value == "":
        return None
    value = clean_text(str(value))
    if not is_formula_like(value):
        return value
    cell = WriteOnlyCell(ws, value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def set_text(cell, value: str | None) -> None:
    """`text_cell` for a worksheet in normal (not write-only) mode."""
    if value is None or value == "":
        cell.value = None
        return
    cell.value = clean_text(str(value))
    if is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def csv_safe(value):
    """For text formats (CSV): a formula-like string gets a leading apostrophe, the OWASP
    advice; the apostrophe shows, but nothing runs."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def local_naive(value: datetime.datetime | None) -> datetime.datetime | None:
    """Excel has no time zones: the portal's local time, without tzinfo."""
    if value is None:
        return None
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


class StyledCells:
    """Write-only cells with one number format, made fast: the style is looked up once."""

    def __init__(self, ws):
        self.ws = ws
        self._templates: dict[tuple[str, bool], WriteOnlyCell] = {}

    def __call__(self, value, number_format: str = "General", bold: bool = False):
        if value is None:
            return None
        key = (number_format, bold)
        template = self._templates.get(key)
        if template is None:
            template = WriteOnlyCell(self.ws)
            template.number_format = number_format
            if bold:
                template.font = BOLD
            self._templates[key] = template
        cell = WriteOnlyCell(self.ws, value)
        cell._style = copy.copy(template._style)
        return cell


def _write_only_sheet(wb: Workbook, title: str, widths: list[int], freeze: str | None):
    ws = wb.create_sheet(title)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    if freeze:
        ws.freeze_panes = freeze
    return ws, StyledCells(ws)


def _header(ws, styled: StyledCells, labels: Iterable[str]) -> None:
    ws.append([styled(str(label), bold=True) for label in labels])


# --------------------------------------------------------------------------- the budget workbook


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
    fund_currency = fund.currency
    proposal_list = list(
        proposals.select_related("cop", "grant").prefetch_related("applicants__organisation").order_by("pk")
    )
    by_pk = {p.pk: p for p in proposal_list}
    rates: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for proposal_id, currency, rate in ExchangeRate.objects.filter(
        proposal__in=proposals.values("pk")
    ).values_list("proposal_id", "currency", "rate"):
        rates[proposal_id][currency] = rate
    figures: dict[int, _ProposalFigures] = defaultdict(_ProposalFigures)
    fund_by_category = _Group()
    activity_titles: dict[int, str] = {}
    categories = dict(BudgetLine.Category.choices)
    category_labels = {code: str(label) for code, label in categories.items()}

    wb = Workbook(write_only=True)
    summary_ws, summary_styled = _write_only_sheet(
        wb, _("Summary"), [14, 44, 26, 26, 18, 13, 13, 13, 18, 18, 40], "A5"
    )
    lines_ws, styled = _write_only_sheet(
        wb, _("Budget lines"), [11, 40, 32, 30, 45, 12, 11, 18, 10, 18, 20], "A2"
    )
    subtotals_ws, subtotal_styled = _write_only_sheet(
        wb, _("Subtotals"), [13, 11, 40, 36, 10, 18, 20, 8], "A2"
    )

    fund_money = money_format(fund_currency)
    _header(
        lines_ws,
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
        lines_ws.append(
            [
                proposal_id,
                text_cell(lines_ws, proposal.title),
                text_cell(lines_ws, activity_title),
                category_labels.get(category, category),
                text_cell(lines_ws, description),
                text_cell(lines_ws, unit),
                qty,
                styled(cost, line_format),
                cur,
                styled(total, line_format),
                styled(converted, fund_money),
            ]
        )
        row_count += 1
        f = figures[proposal_id]
        f.by_currency[cur] += total
        f.by_category.add((category, cur), total)
        f.by_activity.add((activity_id, cur), total)
        fund_by_category.add((category, cur), total)
        if activity_id is not None and activity_id not in activity_titles:
            activity_titles[activity_id] = activity_title
    lines_ws.auto_filter.ref = f"A1:K{row_count}"

    _write_summary(summary_ws, summary_styled, fund, proposal_list, figures, rates)
    _write_subtotals(
        subtotals_ws,
        subtotal_styled,
        fund_currency,
        proposal_list,
        figures,
        rates,
        category_labels,
        activity_titles,
        fund_by_category if fund_wide else None,
    )
    wb.save(out)


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
    _header(
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
    _header(
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
    _header(
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


# --------------------------------------------------------------------------- the template


def _category_choices_english() -> list[tuple[str, str]]:
    with translation.override("en"):
        return [(code, str(label)) for code, label in BudgetLine.Category.choices]


INSTRUCTIONS_EN = [
    "How to fill in the budget template",
    "",
    "1. Write one budget line per row on the “Budget” sheet, starting on row 2. Do not change the "
    "column headings in row 1.",
    "2. Category: choose one from the list. You may also type the category's code, for example "
    "“travel” (see the table below).",
    "3. Description: what the money is for. Every line needs one.",
    "4. Unit: what you count, for example day, person, trip or piece.",
    "5. Quantity: a number greater than zero, with at most 2 decimals.",
    "6. Unit cost: the cost of one unit, zero or more, with at most 2 decimals (cents). Do not "
    "type the currency symbol.",
    "7. Currency: choose one the fund accepts: {currencies}.",
    "8. Activity: the title of the planned activity the line belongs to, exactly as it is written "
    "in the proposal. Leave it empty if the line is not for one activity.",
    "9. Type values, not formulas: a cell with a formula (for example =D2*E2) is refused. The "
    "portal calculates every line total and subtotal itself.",
    "10. At most {max_rows} lines. The file must be an Excel workbook (.xlsx) of at most 5 MB, "
    "without macros.",
    "11. Upload the file on the proposal's “Import the budget” page. You will see every line "
    "before anything is saved, and you choose whether the lines replace the current budget or "
    "are added to it.",
]

INSTRUCTIONS_KM = [
    "របៀបបំពេញគំរូថវិកា",
    "",
    "១. សូមសរសេរមុខចំណាយមួយ ក្នុងមួយជួរដេក នៅលើសន្លឹក «Budget» ដោយចាប់ផ្ដើមពីជួរទី ២។ សូមកុំកែប្រែចំណងជើងជួរឈរនៅជួរទី ១។",
    "២. ប្រភេទ (Category)៖ សូមជ្រើសរើសមួយពីបញ្ជី។ អ្នកក៏អាចវាយលេខកូដនៃប្រភេទបានដែរ ឧទាហរណ៍ «travel» (សូមមើលតារាងខាងក្រោម)។",
    "៣. ការពិពណ៌នា (Description)៖ សូមសរសេរថាប្រាក់នេះប្រើសម្រាប់អ្វី។ មុខចំណាយនីមួយៗត្រូវតែមានការពិពណ៌នា។",
    "៤. ឯកតា (Unit)៖ អ្វីដែលអ្នករាប់ ឧទាហរណ៍ ថ្ងៃ មនុស្ស ដំណើរ ឬ ដុំ។",
    "៥. បរិមាណ (Quantity)៖ ចំនួនធំជាងសូន្យ ដែលមានខ្ទង់ទសភាគយ៉ាងច្រើន ២ ខ្ទង់។",
    "៦. តម្លៃឯកតា (Unit cost)៖ តម្លៃនៃឯកតាមួយ ស្មើ ឬធំជាងសូន្យ ដែលមានខ្ទង់ទសភាគយ៉ាងច្រើន ២ ខ្ទង់ (សេន)។ "
    "សូមកុំវាយនិមិត្តសញ្ញារូបិយប័ណ្ណ។",
    "៧. រូបិយប័ណ្ណ (Currency)៖ សូមជ្រើសរើសរូបិយប័ណ្ណមួយដែលមូលនិធិទទួលយក៖ {currencies}។",
    "៨. សកម្មភាព (Activity)៖ ចំណងជើងនៃសកម្មភាពដែលបានគ្រោងទុក ដែលមុខចំណាយនេះពាក់ព័ន្ធ "
    "ដោយសរសេរឱ្យដូចក្នុងសំណើគម្រោងទាំងស្រុង។ ទុកឱ្យនៅទទេ ប្រសិនបើមុខចំណាយនេះមិនសម្រាប់សកម្មភាពណាមួយ។",
    "៩. សូមវាយតម្លៃ មិនមែនរូបមន្តទេ៖ ក្រឡាដែលមានរូបមន្ត (ឧទាហរណ៍ =D2*E2) នឹងត្រូវបដិសេធ។ "
    "ប្រព័ន្ធគណនាចំនួនសរុបនៃមុខចំណាយនីមួយៗ និងចំនួនសរុបរងដោយខ្លួនឯង។",
    "១០. យ៉ាងច្រើន {max_rows_km} មុខចំណាយ។ ឯកសារត្រូវតែជាតារាងគណនា Excel (.xlsx) ដែលមានទំហំមិនលើសពី ៥ MB និងគ្មានម៉ាក្រូ។",
    "១១. សូមផ្ទុកឯកសារឡើងនៅលើទំព័រ «នាំចូលថវិកា» នៃសំណើគម្រោង។ អ្នកនឹងឃើញមុខចំណាយនីមួយៗ "
    "មុនពេលរក្សាទុកអ្វីទាំងអស់ ហើយអ្នកជ្រើសរើសថា តើមុខចំណាយទាំងនេះជំនួសថវិកាបច្ចុប្បន្ន ឬបន្ថែមទៅលើវា។",
]

KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def write_budget_template(
    out: IO[bytes],
    *,
    currencies: list[str] | None = None,
    activities: list[PlannedActivity] | None = None,
    lines: Iterable[BudgetLine] = (),
) -> None:
    """The budget template: a Budget sheet with the seven columns (lists to choose the category,
    the currency and, for a proposal, the activity), an Instructions sheet in English and Khmer,
    and a hidden Lists sheet the lists read from. `lines` prefills it (a proposal's budget as
    the template, for the round trip)."""
    currencies = currencies or list(money.CURRENCIES)
    activities = activities or []
    activity_titles = {a.pk: a.title for a in activities}
    categories = _category_choices_english()
    labels = dict(categories)
    last_row = MAX_ROWS + 1

    wb = Workbook()
    ws = wb.active
    ws.title = TEMPLATE_SHEET
    for i, ((_key, heading), width) in enumerate(zip(TEMPLATE_COLUMNS, TEMPLATE_WIDTHS, strict=True), 1):
        cell = ws.cell(row=1, column=i, value=heading)
        cell.font = BOLD
        ws.column_dimensions[get_column_letter(i)].width = width
    for letter in ("B", "C", "G"):  # typed as text: "-5 km" or "=..." stays text in Excel
        ws.column_dimensions[letter].number_format = "@"
    ws.column_dimensions["E"].number_format = NUMBER_FORMAT
    ws.freeze_panes = "A2"
    for r, line in enumerate(lines, 2):
        ws.cell(row=r, column=1, value=labels.get(line.category, line.category))
        set_text(ws.cell(row=r, column=2), line.description)
        set_text(ws.cell(row=r, column=3), line.unit)
        ws.cell(row=r, column=4, value=line.quantity)
        ws.cell(row=r, column=5, value=line.unit_cost).number_format = NUMBER_FORMAT
        ws.cell(row=r, column=6, value=line.currency)
        set_text(ws.cell(row=r, column=7), activity_titles.get(line.activity_id))

    lists = wb.create_sheet(LISTS_SHEET)
    for col, heading in enumerate(["Category", "Code", "Currency", "Activity"], 1):
        lists.cell(row=1, column=col, value=heading).font = BOLD
    for r, (code, label) in enumerate(categories, 2):
        lists.cell(row=r, column=1, value=label)
        lists.cell(row=r, column=2, value=code)
    for r, currency in enumerate(currencies, 2):
        lists.cell(row=r, column=3, value=currency)
    for r, activity in enumerate(activities, 2):
        set_text(lists.cell(row=r, column=4), activity.title)
    lists.sheet_state = "hidden"
    sheet = quote_sheetname(LISTS_SHEET)

    def add_list(column: str, source: str, count: int, strict: bool, prompt: str) -> None:
        validation = DataValidation(
            type="list",
            formula1=f"{sheet}!${source}$2:${source}${count + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if strict else "warning",
            errorTitle="Not in the list",
            error=prompt,
        )
        validation.add(f"{column}2:{column}{last_row}")
        ws.add_data_validation(validation)

    add_list("A", "A", len(categories), False, "Choose a category from the list (or type its code).")
    add_list("F", "C", len(currencies), True, "Choose a currency the fund accepts.")
    if activities:
        add_list("G", "D", len(activities), False, "Choose one of the proposal's planned activities.")

    _write_instructions(wb.create_sheet(INSTRUCTIONS_SHEET), currencies, categories)
    wb.active = 0
    wb.save(out)


def _write_instructions(ws, currencies: list[str], categories: list[tuple[str, str]]) -> None:
    ws.column_dimensions["A"].width = 95
    ws.column_dimensions["B"].width = 95
    wrap = Alignment(wrap_text=True, vertical="top")
    values = {
        "currencies": ", ".join(currencies),
        "max_rows": f"{MAX_ROWS:,}",
        "max_rows_km": f"{MAX_ROWS:,}".replace(",", " ").translate(KHMER_DIGITS),
    }
    ws.cell(row=1, column=1, value="English").font = BOLD
    ws.cell(row=1, column=2, value="ភាសាខ្មែរ").font = BOLD
    for r, (en, km) in enumerate(zip(INSTRUCTIONS_EN, INSTRUCTIONS_KM, strict=True), 2):
        for c, text in ((1, en), (2, km)):
            cell = ws.cell(row=r, column=c, value=text.format(**values) or None)
            cell.alignment = wrap
            if r == 2:
                cell.font = BOLD
    r = len(INSTRUCTIONS_EN) + 3
    ws.cell(row=r, column=1, value="Category (code) / ប្រភេទ (លេខកូដ)").font = BOLD
    for offset, (code, label) in enumerate(categories, 1):
        ws.cell(row=r + offset, column=1, value=f"{label} ({code})")
    ws.freeze_panes = "A2"


# --------------------------------------------------------------------------- reading an upload


class UploadRejected(Exception):
    """The file as a whole cannot be read (size, type, macros, zip bomb...)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class CellError:
    """One error: the spreadsheet row (as Excel numbers it), the column heading, plain words."""

    row: int | None
    column: str | None
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        if self.row and self.column:
            return _("Row %(row)s, %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        if self.row:
            return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        return self.message


@dataclass
class BudgetImportPreview:
    """What an upload would save. `rows` are JSON-safe (decimals as strings, the activity as its
    id) so they can wait in the session between the preview and the confirmation."""

    filename: str
    sha256: str = ""
    rows: list[dict] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    display: list[dict] = field(default_factory=list)  # every row as typed, for the page only

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.errors

    def table(self) -> list[dict]:
        """Every row read, in the sheet's order, with each cell's value and its errors: what the
        preview page shows. Valid rows show the values as they will be saved."""
        headings = dict(TEMPLATE_COLUMNS)
        errors: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for error in self.errors:
            if error.row:
                errors[error.row][error.column or ""].append(error.message)
        valid = {r["row"]: r for r in self.rows}
        source = self.display or [{"row": r["row"], "cells": {}} for r in self.rows]
        table = []
        for shown in source:
            number = shown["row"]
            row = valid.get(number)
            cells = _display_of(row) if row else shown["cells"]
            row_errors = errors.get(number, {})
            table.append(
                {
                    "row": number,
                    "ok": row is not None and not row_errors,
                    "total": _amount_text(row["total"]) if row else "",
                    "row_errors": row_errors.get("", []),
                    "cells": [
                        {"value": cells.get(key, ""), "errors": row_errors.get(heading, [])}
                        for key, heading in headings.items()
                    ],
                }
            )
        return table

    def totals_by_currency(self) -> dict[str, Decimal]:
        return money.totals_by_currency((r["currency"], Decimal(r["total"])) for r in self.rows)


def _amount_text(value) -> str:
    return money.format_amount(value)


def _display_of(row: dict) -> dict[str, str]:
    return {
        "category": row["category_label"],
        "description": row["description"],
        "unit": row["unit"],
        "quantity": f"{Decimal(row['quantity']):,}",
        "unit_cost": _amount_text(row["unit_cost"]),
        "currency": row["currency"],
        "activity": row["activity_title"],
    }


def _shown(value) -> str:
    """A cell's value as the person typed it, for the preview of a row with errors."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    if isinstance(value, float):
        return str(_number(value))
    return str(value)[:120]


def _sniff_not_a_workbook(head: bytes) -> UploadRejected:
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return UploadRejected(
            _(
                "This is an old Excel 97–2003 file (.xls) or a password-protected workbook. Open it "
                "in Excel or LibreOffice, remove any password and save it as “Excel Workbook (.xlsx)”."
            ),
            "old_or_encrypted",
        )
    text = None
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is not None and text.strip() and any(sep in text for sep in (",", ";", "\t", "\n")):
        return UploadRejected(
            _(
                "This file is plain text (CSV), not an Excel workbook, even though its name ends in "
                ".xlsx. Open it in Excel or LibreOffice and save it as “Excel Workbook (.xlsx)”, or "
                "download the template again and copy your lines into it."
            ),
            "csv_not_xlsx",
        )
    return UploadRejected(
        _("This file is not an Excel workbook (.xlsx). Download the template and fill it in."),
        "not_xlsx",
    )


def check_upload_container(fileobj: IO[bytes], name: str, size: int) -> None:
    """Refuse, before openpyxl opens anything, what is not a plain XLSX: too big, not a zip,
    macros, a zip that unpacks to far more than a budget (zip bomb), XML with DTDs."""
    lower = (name or "").lower()
    if size > MAX_UPLOAD_BYTES:
        raise UploadRejected(
            _("The file is %(size)s MB; the limit is 5 MB. A budget of %(rows)s lines is far smaller.")
            % {"size": f"{size / 1024 / 1024:.1f}", "rows": f"{MAX_ROWS:,}"},
            "too_big",
        )
    if lower.endswith((".xlsm", ".xltm", ".xlam", ".xlsb")):
        raise UploadRejected(
            _(
                "Workbooks with macros (.xlsm) are not accepted. Save the file as “Excel Workbook "
                "(.xlsx)” and upload that."
            ),
            "macros",
        )
    if not lower.endswith(".xlsx"):
        raise UploadRejected(
            _("Upload an Excel workbook whose name ends in .xlsx (the template's format)."), "not_xlsx"
        )
    fileobj.seek(0)
    head = fileobj.read(4096)
    fileobj.seek(0)
    if not head.startswith(b"PK"):
        raise _sniff_not_a_workbook(head)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UploadRejected(
            _("The file is damaged or is not an Excel workbook (.xlsx)."), "damaged"
        ) from exc
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            raise UploadRejected(
                _(
                    "The file unpacks to far more data than any budget (more than 50 MB, or more "
                    "than %(n)s parts): it was not opened. Copy your lines into a new template."
                )
                % {"n": MAX_ZIP_MEMBERS},
                "zip_bomb",
            )
        if "mimetype" in names and "xl/workbook.xml" not in names:
            raise UploadRejected(
                _(
                    "This is an OpenDocument spreadsheet (.ods), not an Excel workbook. Save it as "
                    "“Excel Workbook (.xlsx)” and upload that."
                ),
                "ods",
            )
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise UploadRejected(
                _("This file is not an Excel workbook (.xlsx). Download the template and fill it in."),
                "not_xlsx",
            )
        content_types = archive.read("[Content_Types].xml")
        if any("vbaproject" in n.lower() for n in names) or b"macroEnabled" in content_types:
            raise UploadRejected(
                _(
                    "This workbook contains macros, which are not accepted. Save it as “Excel "
                    "Workbook (.xlsx)” (without macros) and upload that."
                ),
                "macros",
            )
        for member in members:
            if member.filename.lower().endswith((".xml", ".rels", ".vml")) and _declares_entities(
                archive, member
            ):
                raise UploadRejected(
                    _("The file contains XML declarations that Excel never writes; it was not opened."),
                    "xml_dtd",
                )
    fileobj.seek(0)


def _declares_entities(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """A DOCTYPE or ENTITY declaration anywhere in the XML part, not only in its first bytes (a
    long comment can come first). Excel writes neither; text typed in a cell is escaped
    (`&lt;!DOCTYPE`), so it never matches."""
    tail = b""
    with archive.open(member) as part:
        for chunk in iter(lambda: part.read(256 * 1024), b""):
            window = tail + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return True
            tail = window[-8:]
    return False


def _number(value) -> Decimal | None:
    """A cell's number as a Decimal, or None when it is not a number. Floats (how XLSX stores
    every number) go through their shortest repr, so 1234.56 stays 1234.56."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        try:
            result = Decimal(repr(value))
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _has_more_than_cents(amount: Decimal) -> bool:
    return amount != amount.quantize(money.CENT)


_UNREADABLE = object()  # a formula or an error value, already reported


class _Reader:
    """Turns the rows of the Budget sheet into preview rows and errors."""

    def __init__(self, proposal: Proposal, preview: BudgetImportPreview):
        self.proposal = proposal
        self.preview = preview
        self.accepted = proposal.fund.accepted_currency_list
        categories = {}
        for code, label in _category_choices_english():
            categories[_key(code)] = code
            categories[_key(label)] = code
        for code, label in BudgetLine.Category.choices:  # the label in the person's language
            categories.setdefault(_key(str(label)), code)
        self.categories = categories
        self.category_labels = {code: str(label) for code, label in BudgetLine.Category.choices}
        activities: dict[str, list[PlannedActivity]] = defaultdict(list)
        for activity in proposal.activities.all():
            activities[_key(activity.title)].append(activity)
        self.activities = activities

    def error(self, row, column, message, code="invalid"):
        self.preview.errors.append(CellError(row, column, message, code))

    def read_headers(self, header_cells) -> dict[str, int] | None:
        positions: dict[str, int] = {}
        wanted = {_key(heading): key for key, heading in TEMPLATE_COLUMNS}
        for index, cell in enumerate(header_cells):
            key = wanted.get(_key(_text(cell.value))) if cell.value is not None else None
            if key and key not in positions:
                positions[key] = index
        missing = [heading for key, heading in TEMPLATE_COLUMNS if key not in positions]
        if missing:
            self.error(
                1,
                None,
                ngettext(
                    "The column %(columns)s is missing. Row 1 must hold the template's headings: %(all)s.",
                    "The columns %(columns)s are missing. Row 1 must hold the template's headings: %(all)s.",
                    len(missing),
                )
                % {
                    "columns": ", ".join(f"“{m}”" for m in missing),
                    "all": ", ".join(h for _k, h in TEMPLATE_COLUMNS),
                },
                "missing_columns",
            )
            return None
        return positions

    def read_row(self, row_number: int, cells: dict[str, object]) -> None:
        """`cells` maps a column key to an openpyxl cell (or None)."""
        heading = dict(TEMPLATE_COLUMNS)
        values = {}
        self.preview.display.append(
            {
                "row": row_number,
                "cells": {k: _shown(c.value if c is not None else None) for k, c in cells.items()},
            }
        )
        for key, cell in cells.items():
            if cell is None:
                values[key] = None
                continue
            if cell.data_type == "f":
                shown = cell.value if isinstance(cell.value, str) else "="
                self.error(
                    row_number,
                    heading[key],
                    _("a formula (%(formula)s) where a value is expected; type the value itself.")
                    % {"formula": shown[:40]},
                    "formula",
                )
                values[key] = _UNREADABLE
                continue
            if cell.data_type == "e":
                self.error(
                    row_number,
                    heading[key],
                    _("an error value (%(value)s); type the value itself.") % {"value": cell.value},
                    "error_value",
                )
                values[key] = _UNREADABLE
                continue
            values[key] = cell.value
        unreadable = {key for key, value in values.items() if value is _UNREADABLE}
        values = {key: (None if key in unreadable else value) for key, value in values.items()}
        row = {"row": row_number}
        ok = not unreadable

        category = _text(values.get("category"))
        if "category" in unreadable:
            pass
        elif not category:
            ok = self._fail(row_number, "Category", _("choose a category."), "category_missing")
        elif _key(category) not in self.categories:
            ok = self._fail(
                row_number,
                "Category",
                _("“%(value)s” is not a category. Choose one from the list: %(choices)s.")
                % {
                    "value": category[:60],
                    "choices": ", ".join(label for _c, label in _category_choices_english()),
                },
                "unknown_category",
            )
        else:
            row["category"] = self.categories[_key(category)]

        for key, limit in (("description", 250), ("unit", 40)):
            text = _text(values.get(key))
            if key in unreadable:
                continue
            if not text:
                message = (
                    _("write what the money is for; the description is empty.")
                    if key == "description"
                    else _("give the unit (for example day, person, trip or piece).")
                )
                ok = self._fail(row_number, heading[key], message, f"{key}_missing")
            elif len(text) > limit:
                ok = self._fail(
                    row_number,
                    heading[key],
                    _("too long: %(n)s characters, at most %(limit)s.") % {"n": len(text), "limit": limit},
                    f"{key}_too_long",
                )
            else:
                row[key] = text

        quantity = (
            None
            if "quantity" in unreadable
            else self._amount(row_number, values.get("quantity"), "Quantity", limit=Decimal("1E10"))
        )
        if quantity is not None and quantity <= 0:
            ok = self._fail(
                row_number,
                "Quantity",
                _("must be more than zero (it is %(value)s).") % {"value": quantity},
                "quantity_not_positive",
            )
        elif quantity is None:
            ok = False
        else:
            row["quantity"] = str(quantity)

        unit_cost = (
            None
            if "unit_cost" in unreadable
            else self._amount(row_number, values.get("unit_cost"), "Unit cost", limit=Decimal("1E12"))
        )
        if unit_cost is not None and unit_cost < 0:
            ok = self._fail(
                row_number,
                "Unit cost",
                _("cannot be negative (it is %(value)s).") % {"value": unit_cost},
                "unit_cost_negative",
            )
        elif unit_cost is None:
            ok = False
        else:
            row["unit_cost"] = str(unit_cost)

        currency = _text(values.get("currency")).upper()
        if "currency" in unreadable:
            pass
        elif not currency:
            ok = self._fail(
                row_number,
                "Currency",
                _("choose the currency (%(accepted)s).") % {"accepted": ", ".join(self.accepted)},
                "currency_missing",
            )
        elif currency not in self.accepted:
            ok = self._fail(
                row_number,
                "Currency",
                _("the fund does not accept %(currency)s; use one of %(accepted)s.")
                % {"currency": currency[:12], "accepted": ", ".join(self.accepted)},
                "currency_not_accepted",
            )
        else:
            row["currency"] = currency

        activity_title = _text(values.get("activity"))
        row["activity"] = None
        row["activity_title"] = ""
        if activity_title and "activity" not in unreadable:
            matches = self.activities.get(_key(activity_title), [])
            if len(matches) == 1:
                row["activity"] = matches[0].pk
                row["activity_title"] = matches[0].title
            elif not matches:
                titles = [a[0].title for a in self.activities.values()]
                ok = self._fail(
                    row_number,
                    "Activity",
                    (
                        _("“%(value)s” is not one of this proposal's planned activities (%(titles)s).")
                        % {"value": activity_title[:80], "titles": "; ".join(titles)}
                    )
                    if titles
                    else _(
                        "“%(value)s” is not one of this proposal's planned activities: it has none "
                        "yet. Add the activity first, or leave the cell empty."
                    )
                    % {"value": activity_title[:80]},
                    "unknown_activity",
                )
            else:
                ok = self._fail(
                    row_number,
                    "Activity",
                    _("two planned activities are called “%(value)s”; rename one in the proposal first.")
                    % {"value": activity_title[:80]},
                    "ambiguous_activity",
                )
        if ok:
            row["category_label"] = self.category_labels[row["category"]]
            row["total"] = str(money.line_total(row["quantity"], row["unit_cost"]))
            self.preview.rows.append(row)

    def _fail(self, row, column, message, code) -> bool:
        self.error(row, column, message, code)
        return False

    def _amount(self, row_number: int, value, column: str, *, limit: Decimal) -> Decimal | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.error(row_number, column, _("empty; type a number."), "number_missing")
            return None
        number = _number(value)
        if number is None:
            shown = value.isoformat()[:10] if isinstance(value, datetime.date) else str(value)[:40]
            self.error(
                row_number,
                column,
                _(
                    "“%(value)s” is not a number. Type digits only, with a dot for decimals and no "
                    "currency symbol or thousands separator (for example 1250.50)."
                )
                % {"value": shown},
                "not_a_number",
            )
            return None
        if number.copy_abs() >= limit:  # copy_abs: exact, no overflow for 9e999999999
            self.error(row_number, column, _("this number is too large."), "number_too_large")
            return None
        if _has_more_than_cents(number):
            self.error(
                row_number,
                column,
                _("%(value)s has more than 2 decimals; round it to 2 (cents).") % {"value": number},
                "too_many_decimals",
            )
            return None
        return number


def _budget_sheet(wb):
    if TEMPLATE_SHEET in wb.sheetnames:
        return wb[TEMPLATE_SHEET]
    for ws in wb.worksheets:
        if ws.title not in (INSTRUCTIONS_SHEET, LISTS_SHEET):
            return ws
    return None


def read_budget_upload(upload, *, proposal: Proposal) -> BudgetImportPreview:
    """Check and read an uploaded template for `proposal`. Never writes to the database."""
    name = getattr(upload, "name", "") or ""
    preview = BudgetImportPreview(filename=name.rsplit("/", 1)[-1][:120])
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    try:
        check_upload_container(upload, name, size)
    except UploadRejected as exc:
        preview.errors.append(CellError(None, None, exc.message, exc.code))
        return preview
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    preview.sha256 = digest.hexdigest()
    upload.seek(0)
    try:
        wb = load_workbook(upload, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        preview.errors.append(
            CellError(
                None,
                None,
                _("The workbook could not be read (%(reason)s). Save it again as .xlsx and retry.")
                % {"reason": type(exc).__name__},
                "unreadable",
            )
        )
        return preview
    try:
        _read_sheet(wb, proposal, preview)
    except Exception as exc:  # the sheet's XML is parsed only now, row by row
        logger.warning("Budget upload %s could not be read", preview.filename, exc_info=True)
        preview.rows.clear()
        preview.display.clear()
        preview.errors[:] = [
            CellError(
                None,
                None,
                _("The workbook could not be read (%(reason)s). Save it again as .xlsx and retry.")
                % {"reason": type(exc).__name__},
                "unreadable",
            )
        ]
    finally:
        wb.close()
    return preview


def _read_sheet(wb, proposal: Proposal, preview: BudgetImportPreview) -> None:
    ws = _budget_sheet(wb)
    if ws is None:
        preview.errors.append(CellError(None, None, _("The workbook has no “Budget” sheet."), "no_sheet"))
        return
    reader = _Reader(proposal, preview)
    rows = ws.iter_rows(max_row=MAX_SHEET_ROWS + 1)
    header = next(rows, None)
    positions = reader.read_headers(header or [])
    if positions is None:
        return
    data_rows = 0
    for row_number, cells in enumerate(rows, 2):
        if row_number > MAX_SHEET_ROWS:
            preview.rows.clear()
            preview.display.clear()
            preview.errors[:] = [
                CellError(
                    None,
                    None,
                    _(
                        "The “Budget” sheet goes on past row %(max)s (something is typed or "
                        "formatted far below the budget lines). Copy your lines into a new "
                        "template and upload that."
                    )
                    % {"max": f"{MAX_SHEET_ROWS:,}"},
                    "sheet_too_long",
                )
            ]
            return
        picked = {key: cells[i] if i < len(cells) else None for key, i in positions.items()}
        if all(
            cell is None or cell.value is None or (isinstance(cell.value, str) and not cell.value.strip())
            for cell in picked.values()
        ):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            preview.rows.clear()
            preview.display.clear()
            preview.errors[:] = [
                CellError(
                    None,
                    None,
                    _(
                        "The sheet has more than %(max)s budget lines; the limit is %(max)s. Split "
                        "the budget into several files (import the first with “replace”, the next "
                        "ones with “add”), or ask the facilitators."
                    )
                    % {"max": f"{MAX_ROWS:,}"},
                    "too_many_rows",
                )
            ]
            return
        reader.read_row(row_number, picked)
    order = {heading: i for i, (_key, heading) in enumerate(TEMPLATE_COLUMNS)}
    preview.errors.sort(key=lambda e: (e.row or 0, order.get(e.column, -1)))
    if not data_rows:
        preview.errors.append(CellError(None, None, _("The “Budget” sheet has no budget lines."), "empty"))
        return
    rates = set(proposal.exchange_rates.values_list("currency", flat=True))
    missing = sorted({r["currency"] for r in preview.rows} - rates - {proposal.fund.currency})
    if missing:
        preview.warnings.append(
            _(
                "No exchange rate is recorded yet for %(currencies)s; record it on the proposal "
                "before submitting."
            )
            % {"currencies": ", ".join(missing)}
        )


def preview_rows_for_service(rows: list[dict]) -> list[dict]:
    """The stored preview rows as `budget_import_apply` takes them."""
    return [
        {
            "category": r["category"],
            "description": r["description"],
            "unit": r["unit"],
            "quantity": Decimal(r["quantity"]),
            "unit_cost": Decimal(r["unit_cost"]),
            "currency": r["currency"],
            "activity": r["activity"],
        }
        for r in rows
    ]
