"""Budget spreadsheets: the workbooks people download (one proposal, a whole fund), the budget
template, and the template's reader.

Writing (`workbook`, `template`, on the cells of `cells`): numbers are numbers with a currency
number format, dates are dates, headers are frozen, columns are sized, and text that came from
people and looks like a formula is written as a string cell with Excel's quote prefix, so
neither Excel nor LibreOffice ever runs it.

Reading (`archive`, `package`, `parts`, `limits`, then `reader`, `rows`, `preview`): an upload
is checked as an archive, part by part, before openpyxl sees it; its values are read without
evaluating anything, and the person sees every row as it will be saved and every error with its
row and column in plain words; nothing is written until `services.budget_import_apply`.
"""

from .archive import check_upload_container
from .cells import (
    BOLD,
    DATE_FORMAT,
    FORMULA_PREFIXES,
    NUMBER_FORMAT,
    XLSX_CONTENT_TYPE,
    StyledCells,
    clean_text,
    csv_safe,
    header,
    is_formula_like,
    local_naive,
    money_format,
    set_text,
    text_cell,
    write_only_sheet,
)
from .limits import MAX_UNPACKED_BYTES, MAX_UPLOAD_BYTES, MAX_ZIP_MEMBERS, UploadRejected
from .preview import BudgetImportPreview, CellError, preview_rows_for_service
from .reader import MAX_SHEET_ROWS, read_budget_upload
from .template import (
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    MAX_ROWS,
    TEMPLATE_COLUMNS,
    TEMPLATE_SHEET,
    TEMPLATE_WIDTHS,
    write_budget_template,
)
from .values import number as _number  # the name the property tests know
from .workbook import CHUNK_SIZE, write_budget_workbook

__all__ = [
    "BOLD",
    "CHUNK_SIZE",
    "DATE_FORMAT",
    "FORMULA_PREFIXES",
    "INSTRUCTIONS_SHEET",
    "LISTS_SHEET",
    "MAX_ROWS",
    "MAX_SHEET_ROWS",
    "MAX_UNPACKED_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_ZIP_MEMBERS",
    "NUMBER_FORMAT",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_SHEET",
    "TEMPLATE_WIDTHS",
    "XLSX_CONTENT_TYPE",
    "BudgetImportPreview",
    "CellError",
    "StyledCells",
    "UploadRejected",
    "_number",
    "check_upload_container",
    "clean_text",
    "csv_safe",
    "header",
    "is_formula_like",
    "local_naive",
    "money_format",
    "preview_rows_for_service",
    "read_budget_upload",
    "set_text",
    "text_cell",
    "write_budget_template",
    "write_budget_workbook",
    "write_only_sheet",
]
