"""The rows of an uploaded Budget sheet turned into preview rows: each cell read by its column's
reader, each problem reported on its row and column in plain words."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ccop import money

from ..models import BudgetLine, PlannedActivity, Proposal
from . import values
from .preview import BudgetImportPreview, CellError, shown
from .template import TEMPLATE_COLUMNS, category_choices_english

HEADINGS = dict(TEMPLATE_COLUMNS)
DESCRIPTION_MAX = 250
UNIT_MAX = 40
QUANTITY_LIMIT = Decimal("1E10")
UNIT_COST_LIMIT = Decimal("1E12")


class CellProblem(Exception):
    """What is wrong with one cell, in plain words."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


class RowReader:
    """Turns the rows of the Budget sheet into preview rows and errors. Each column has a reader
    that returns what the cell gives the row or raises `CellProblem`; a row with no problem is
    added to the preview."""

    def __init__(self, proposal: Proposal, preview: BudgetImportPreview):
        self.preview = preview
        self.accepted = proposal.fund.accepted_currency_list
        categories = {}
        for code, label in category_choices_english():
            categories[values.key(code)] = code
            categories[values.key(label)] = code
        for code, label in BudgetLine.Category.choices:  # the label in the person's language
            categories.setdefault(values.key(str(label)), code)
        self.categories = categories
        self.category_labels = {code: str(label) for code, label in BudgetLine.Category.choices}
        activities: dict[str, list[PlannedActivity]] = defaultdict(list)
        for activity in proposal.activities.all():
            activities[values.key(activity.title)].append(activity)
        self.activities = activities
        self.readers = {
            "category": self.category,
            "description": self.description,
            "unit": self.unit,
            "quantity": self.quantity,
            "unit_cost": self.unit_cost,
            "currency": self.currency,
            "activity": self.activity,
        }

    def error(self, row, column, message, code="invalid"):
        self.preview.errors.append(CellError(row, column, message, code))

    def read_headers(self, header_cells) -> dict[str, int] | None:
        """Where each template column is (0-based), or None after reporting the missing ones."""
        positions: dict[str, int] = {}
        wanted = {values.key(heading): key for key, heading in TEMPLATE_COLUMNS}
        for index, cell in enumerate(header_cells):
            key = wanted.get(values.key(values.text(cell.value))) if cell.value is not None else None
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
        """`cells` maps each column key to an openpyxl cell (or None)."""
        self.preview.display.append(
            {
                "row": row_number,
                "cells": {k: shown(c.value if c is not None else None) for k, c in cells.items()},
            }
        )
        row = {"row": row_number}
        ok = True
        for key, read in self.readers.items():
            try:
                row.update(read(cell_value(cells.get(key))))
            except CellProblem as problem:
                self.error(row_number, HEADINGS[key], problem.message, problem.code)
                ok = False
        if ok:
            row["category_label"] = self.category_labels[row["category"]]
            row["total"] = str(money.line_total(row["quantity"], row["unit_cost"]))
            self.preview.rows.append(row)

    # Column readers: the cell's value -> what it gives the row.

    def category(self, value) -> dict:
        category = values.text(value)
        if not category:
            raise CellProblem(_("choose a category."), "category_missing")
        code = self.categories.get(values.key(category))
        if code is None:
            raise CellProblem(
                _("“%(value)s” is not a category. Choose one from the list: %(choices)s.")
                % {
                    "value": category[:60],
                    "choices": ", ".join(label for _c, label in category_choices_english()),
                },
                "unknown_category",
            )
        return {"category": code}

    def description(self, value) -> dict:
        return {"description": _bounded_text(value, "description", DESCRIPTION_MAX)}

    def unit(self, value) -> dict:
        return {"unit": _bounded_text(value, "unit", UNIT_MAX)}

    def quantity(self, value) -> dict:
        quantity = amount(value, limit=QUANTITY_LIMIT)
        if quantity <= 0:
            raise CellProblem(
                _("must be more than zero (it is %(value)s).") % {"value": quantity},
                "quantity_not_positive",
            )
        return {"quantity": str(quantity)}

    def unit_cost(self, value) -> dict:
        unit_cost = amount(value, limit=UNIT_COST_LIMIT)
        if unit_cost < 0:
            raise CellProblem(
                _("cannot be negative (it is %(value)s).") % {"value": unit_cost},
                "unit_cost_negative",
            )
        return {"unit_cost": str(unit_cost)}

    def currency(self, value) -> dict:
        currency = values.text(value).upper()
        if not currency:
            raise CellProblem(
                _("choose the currency (%(accepted)s).") % {"accepted": ", ".join(self.accepted)},
                "currency_missing",
            )
        if currency not in self.accepted:
            raise CellProblem(
                _("the fund does not accept %(currency)s; use one of %(accepted)s.")
                % {"currency": currency[:12], "accepted": ", ".join(self.accepted)},
                "currency_not_accepted",
            )
        return {"currency": currency}

    def activity(self, value) -> dict:
        title = values.text(value)
        if not title:
            return {"activity": None, "activity_title": ""}
        matches = self.activities.get(values.key(title), [])
        if len(matches) == 1:
            return {"activity": matches[0].pk, "activity_title": matches[0].title}
        if matches:
            raise CellProblem(
                _("two planned activities are called “%(value)s”; rename one in the proposal first.")
                % {"value": title[:80]},
                "ambiguous_activity",
            )
        titles = [a[0].title for a in self.activities.values()]
        if titles:
            message = _("“%(value)s” is not one of this proposal's planned activities (%(titles)s).") % {
                "value": title[:80],
                "titles": "; ".join(titles),
            }
        else:
            message = _(
                "“%(value)s” is not one of this proposal's planned activities: it has none "
                "yet. Add the activity first, or leave the cell empty."
            ) % {"value": title[:80]}
        raise CellProblem(message, "unknown_activity")


def cell_value(cell):
    """The value a cell holds; a formula or an error value is a problem (the portal calculates,
    people type values)."""
    if cell is None:
        return None
    if cell.data_type == "f":
        formula = cell.value if isinstance(cell.value, str) else "="
        raise CellProblem(
            _("a formula (%(formula)s) where a value is expected; type the value itself.")
            % {"formula": formula[:40]},
            "formula",
        )
    if cell.data_type == "e":
        raise CellProblem(
            _("an error value (%(value)s); type the value itself.") % {"value": cell.value},
            "error_value",
        )
    return cell.value


def _bounded_text(value, key: str, limit: int) -> str:
    text = values.text(value)
    if not text:
        message = (
            _("write what the money is for; the description is empty.")
            if key == "description"
            else _("give the unit (for example day, person, trip or piece).")
        )
        raise CellProblem(message, f"{key}_missing")
    if len(text) > limit:
        raise CellProblem(
            _("too long: %(n)s characters, at most %(limit)s.") % {"n": len(text), "limit": limit},
            f"{key}_too_long",
        )
    return text


def amount(value, *, limit: Decimal) -> Decimal:
    """A cell's number, checked: present, a number, below `limit`, at most two decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellProblem(_("empty; type a number."), "number_missing")
    number = values.number(value)
    if number is None:
        typed = value.isoformat()[:10] if isinstance(value, datetime.date) else str(value)[:40]
        raise CellProblem(
            _(
                "“%(value)s” is not a number. Type digits only, with a dot for decimals and no "
                "currency symbol or thousands separator (for example 1250.50)."
            )
            % {"value": typed},
            "not_a_number",
        )
    if number.copy_abs() >= limit:  # copy_abs: exact, no overflow for 9e999999999
        raise CellProblem(_("this number is too large."), "number_too_large")
    if values.has_more_than_cents(number):
        raise CellProblem(
            _("%(value)s has more than 2 decimals; round it to 2 (cents).") % {"value": number},
            "too_many_decimals",
        )
    return number
