"""What an uploaded budget would save, shown before anything is: the rows as they will be saved
and every error with its row and column, in plain words."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from ccop import money

from . import values
from .template import TEMPLATE_COLUMNS


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

    def refuse(self, message: str, code: str) -> None:
        """Nothing of the file can be used: forget every row read and keep one message."""
        self.rows.clear()
        self.display.clear()
        self.errors[:] = [CellError(None, None, message, code)]

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
    return f"{Decimal(value):,.2f}"


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


def shown(value) -> str:
    """A cell's value as the person typed it, for the preview of a row with errors."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    if isinstance(value, float):
        return str(values.number(value))
    return str(value)[:120]


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
