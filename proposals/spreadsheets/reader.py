"""Reading an uploaded budget template: the file is checked as an archive before openpyxl opens
it (`archive.check_upload_container`), then the Budget sheet is read without evaluating anything
into a preview. Nothing is written here; `services.budget_import_apply` does, once the person
confirms."""

from __future__ import annotations

import hashlib
import io
import logging

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from ..models import Proposal
from .archive import UploadRejected, check_upload_container
from .preview import BudgetImportPreview, CellError
from .rows import RowReader
from .template import INSTRUCTIONS_SHEET, LISTS_SHEET, MAX_ROWS, TEMPLATE_COLUMNS, TEMPLATE_SHEET

# How far down the Budget sheet is read, blank rows included: a budget never goes past it, and a
# tiny file whose last row is row 1,048,576 would otherwise cost seconds of reading.
MAX_SHEET_ROWS = 20 * MAX_ROWS
# How far right it is read: the template's 7 columns and room for people's own. openpyxl sizes
# every row to the sheet's declared dimension (up to 16,384 columns) unless told where to stop.
MAX_COLUMNS = 64

logger = logging.getLogger(__name__)


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
        preview.refuse(exc.message, exc.code)
        return preview
    preview.sha256 = _sha256(upload)
    try:
        wb = load_workbook(upload, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        preview.refuse(_unreadable(exc), "unreadable")
        return preview
    try:
        _read_sheet(wb, proposal, preview)
    except Exception as exc:  # the sheet's XML is parsed only now, row by row
        logger.warning("Budget upload %s could not be read", preview.filename, exc_info=True)
        preview.refuse(_unreadable(exc), "unreadable")
    finally:
        wb.close()
    return preview


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _unreadable(exc: Exception) -> str:
    return _("The workbook could not be read (%(reason)s). Save it again as .xlsx and retry.") % {
        "reason": type(exc).__name__
    }


def _budget_sheet(wb):
    if TEMPLATE_SHEET in wb.sheetnames:
        return wb[TEMPLATE_SHEET]
    for ws in wb.worksheets:
        if ws.title not in (INSTRUCTIONS_SHEET, LISTS_SHEET):
            return ws
    return None


def _is_blank(cells) -> bool:
    return all(
        cell is None or cell.value is None or (isinstance(cell.value, str) and not cell.value.strip())
        for cell in cells
    )


def _read_sheet(wb, proposal: Proposal, preview: BudgetImportPreview) -> None:
    ws = _budget_sheet(wb)
    if ws is None:
        preview.errors.append(CellError(None, None, _("The workbook has no “Budget” sheet."), "no_sheet"))
        return
    reader = RowReader(proposal, preview)
    rows = ws.iter_rows(max_row=MAX_SHEET_ROWS + 1, max_col=MAX_COLUMNS)
    header = next(rows, None)
    positions = reader.read_headers(header or [])
    if positions is None:
        return
    data_rows = 0
    for row_number, cells in enumerate(rows, 2):
        if row_number > MAX_SHEET_ROWS:
            preview.refuse(
                _(
                    "The “Budget” sheet goes on past row %(max)s (something is typed or "
                    "formatted far below the budget lines). Copy your lines into a new "
                    "template and upload that."
                )
                % {"max": f"{MAX_SHEET_ROWS:,}"},
                "sheet_too_long",
            )
            return
        picked = {key: cells[i] if i < len(cells) else None for key, i in positions.items()}
        if _is_blank(picked.values()):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            preview.refuse(
                _(
                    "The sheet has more than %(max)s budget lines; the limit is %(max)s. Split "
                    "the budget into several files (import the first with “replace”, the next "
                    "ones with “add”), or ask the facilitators."
                )
                % {"max": f"{MAX_ROWS:,}"},
                "too_many_rows",
            )
            return
        reader.read_row(row_number, picked)
    order = {heading: i for i, (_key, heading) in enumerate(TEMPLATE_COLUMNS)}
    preview.errors.sort(key=lambda e: (e.row or 0, order.get(e.column, -1)))
    if not data_rows:
        preview.errors.append(CellError(None, None, _("The “Budget” sheet has no budget lines."), "empty"))
        return
    _warn_missing_rates(proposal, preview)


def _warn_missing_rates(proposal: Proposal, preview: BudgetImportPreview) -> None:
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
