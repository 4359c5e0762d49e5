"""The budget template: the workbook people fill in to import a budget, blank or holding a
proposal's lines (for the round trip), with an Instructions sheet in English and Khmer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from django.utils import translation
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from ccop import money

from ..models import BudgetLine, PlannedActivity
from ..services import BUDGET_IMPORT_MAX_LINES
from .cells import BOLD, NUMBER_FORMAT, set_text

MAX_ROWS = BUDGET_IMPORT_MAX_LINES

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


def category_choices_english() -> list[tuple[str, str]]:
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
    "១. សូមសរសេរបន្ទាត់ថវិកាមួយ ក្នុងមួយជួរដេក នៅលើសន្លឹក «Budget» ដោយចាប់ផ្ដើមពីជួរទី ២។ សូមកុំកែប្រែចំណងជើងជួរឈរនៅជួរទី ១។",
    "២. ប្រភេទ (Category)៖ សូមជ្រើសរើសមួយពីបញ្ជី។ អ្នកក៏អាចវាយលេខកូដនៃប្រភេទបានដែរ ឧទាហរណ៍ «travel» (សូមមើលតារាងខាងក្រោម)។",
    "៣. ការពិពណ៌នា (Description)៖ សូមសរសេរថាប្រាក់នេះប្រើសម្រាប់អ្វី។ បន្ទាត់នីមួយៗត្រូវតែមានការពិពណ៌នា។",
    "៤. ឯកតា (Unit)៖ អ្វីដែលអ្នករាប់ ឧទាហរណ៍ ថ្ងៃ មនុស្ស ដំណើរ ឬ ដុំ។",
    "៥. បរិមាណ (Quantity)៖ ចំនួនធំជាងសូន្យ ដែលមានខ្ទង់ទសភាគយ៉ាងច្រើន ២ ខ្ទង់។",
    "៦. តម្លៃឯកតា (Unit cost)៖ តម្លៃនៃឯកតាមួយ ស្មើ ឬធំជាងសូន្យ ដែលមានខ្ទង់ទសភាគយ៉ាងច្រើន ២ ខ្ទង់ (សេន)។ "
    "សូមកុំវាយនិមិត្តសញ្ញារូបិយប័ណ្ណ។",
    "៧. រូបិយប័ណ្ណ (Currency)៖ សូមជ្រើសរើសរូបិយប័ណ្ណមួយដែលមូលនិធិទទួលយក៖ {currencies}។",
    "៨. សកម្មភាព (Activity)៖ ចំណងជើងនៃសកម្មភាពដែលបានគ្រោងទុក ដែលបន្ទាត់នេះពាក់ព័ន្ធ "
    "ដោយសរសេរឱ្យដូចក្នុងសំណើគម្រោងទាំងស្រុង។ ទុកឱ្យនៅទទេ ប្រសិនបើបន្ទាត់នេះមិនសម្រាប់សកម្មភាពណាមួយ។",
    "៩. សូមវាយតម្លៃ មិនមែនរូបមន្តទេ៖ ក្រឡាដែលមានរូបមន្ត (ឧទាហរណ៍ =D2*E2) នឹងត្រូវបដិសេធ។ "
    "ប្រព័ន្ធគណនាចំនួនសរុបនៃបន្ទាត់នីមួយៗ និងចំនួនសរុបរងដោយខ្លួនឯង។",
    "១០. យ៉ាងច្រើន {max_rows_km} បន្ទាត់។ ឯកសារត្រូវតែជាសៀវភៅបញ្ជី Excel (.xlsx) ដែលមានទំហំមិនលើសពី ៥ MB និងគ្មានម៉ាក្រូ។",
    "១១. សូមផ្ទុកឯកសារឡើងនៅលើទំព័រ «នាំចូលថវិកា» នៃសំណើគម្រោង។ អ្នកនឹងឃើញបន្ទាត់នីមួយៗ "
    "មុនពេលរក្សាទុកអ្វីទាំងអស់ ហើយអ្នកជ្រើសរើសថា តើបន្ទាត់ទាំងនេះជំនួសថវិកាបច្ចុប្បន្ន ឬបន្ថែមទៅលើវា។",
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
    categories = category_choices_english()
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
