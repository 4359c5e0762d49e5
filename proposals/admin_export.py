"""CSV and XLSX exports of the admin's lists, with the list's current filters and search.

Add `ExportWithFiltersMixin` first in an admin's bases and name its resource::

    class ProposalAdmin(ExportWithFiltersMixin, SimpleHistoryAdmin):
        resource_classes = [ProposalResource]

The export button on the change list carries the list's query string (filters, search, date
hierarchy) to the export page, and import-export's `get_export_queryset` builds the admin's own
`ChangeList` from it: the rows exported are the rows listed, all pages of them, within the
admin's `get_queryset` (so a facilitator exports only their programme). Only people who may view
the list may export it.

The two formats write numbers as numbers and dates as dates, and make text that looks like a
formula inert: in XLSX a string cell with the quote prefix, in CSV a leading apostrophe."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
from decimal import Decimal

from django.utils import timezone
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .spreadsheets import NUMBER_FORMAT, StyledCells, csv_safe, local_naive, text_cell


def _native(value):
    if isinstance(value, datetime.datetime):
        return local_naive(value)
    return value


class SafeXLSX(base_formats.XLSX):
    """XLSX written with openpyxl's write-only mode: bold frozen header, sized columns, decimals
    as numbers with two places, dates as dates, formula-like text inert."""

    def export_data(self, dataset, **kwargs):
        wb = Workbook(write_only=True)
        ws = wb.create_sheet((dataset.title or "Export")[:31])
        headers = [str(h) for h in dataset.headers or []]
        widths = [max(10, min(60, len(h) + 2)) for h in headers]
        for row in itertools.islice(dataset, 200):
            for i, value in enumerate(row):
                if i < len(widths) and isinstance(value, str):
                    widths[i] = max(widths[i], min(60, len(value) + 2))
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        styled = StyledCells(ws)
        ws.append([styled(h, bold=True) for h in headers])
        for row in dataset:
            ws.append([self._cell(ws, styled, value) for value in row])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    @staticmethod
    def _cell(ws, styled, value):
        value = _native(value)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return text_cell(ws, value)
        if isinstance(value, bool):
            return value
        if isinstance(value, Decimal):
            return styled(value, NUMBER_FORMAT)
        if isinstance(value, datetime.datetime):
            return styled(value, "yyyy-mm-dd hh:mm")
        if isinstance(value, datetime.date):
            return styled(value, "yyyy-mm-dd")
        if isinstance(value, int | float):
            return value
        return text_cell(ws, str(value))


class SafeCSV(base_formats.CSV):
    """UTF-8 CSV with a byte-order mark (so Excel reads Khmer and Lao correctly); datetimes in
    the portal's time zone; formula-like text prefixed with an apostrophe."""

    def export_data(self, dataset, **kwargs):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([csv_safe(str(h)) for h in dataset.headers or []])
        for row in dataset:
            writer.writerow([self._text(value) for value in row])
        return "\ufeff" + out.getvalue()

    @staticmethod
    def _text(value):
        value = _native(value)
        if value is None:
            return ""
        if isinstance(value, datetime.datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, str):
            return csv_safe(value)
        return str(value)


class ExportWithFiltersMixin(ExportMixin):
    """import-export's ExportMixin with the portal's two safe formats and view permission."""

    export_form_class = ExportForm

    def get_export_formats(self):
        return [SafeXLSX, SafeCSV]

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localdate().isoformat()
        return f"{self.model._meta.model_name}s-{stamp}.{file_format.get_extension()}"
