"""Cells and sheets shared by every workbook the portal writes: numbers as numbers with a currency
format, dates as dates, and text that came from people written so that no spreadsheet program
ever runs it as a formula."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What starts a formula in Excel, LibreOffice or Google Sheets (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
NUMBER_FORMAT = "#,##0.00"
BOLD = Font(bold=True)


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


def write_only_sheet(wb: Workbook, title: str, widths: list[int], freeze: str | None):
    """A new sheet of the write-only workbook `wb` with its column widths and frozen panes, and
    the `StyledCells` to fill it."""
    ws = wb.create_sheet(title)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    if freeze:
        ws.freeze_panes = freeze
    return ws, StyledCells(ws)


def header(ws, styled: StyledCells, labels: Iterable[str]) -> None:
    ws.append([styled(str(label), bold=True) for label in labels])
