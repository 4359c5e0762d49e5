"""Budget import: an uploaded template of N rows read and checked (`read_budget_upload`, the
preview people confirm), then saved (`budget_import_apply`, one transaction with history rows).

    .venv/bin/python bench/budget_import.py [--rows 5000] [--json]

The portal refuses more than BUDGET_IMPORT_MAX_LINES (2,000) rows in one file; the bench lifts
that cap in its own process to time the issue's 5,000 rows, and times the cap itself too.
Runs on DATABASE_URL (bench/run.py gives it a PostgreSQL database of its own)."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

HEAD = ["Category", "Description", "Unit", "Quantity", "Unit cost", "Currency", "Activity"]


def workbook(rows: int, activity: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Budget")
    ws.append(HEAD)
    categories = ["Meals and refreshments", "Travel and transport", "venue", "materials"]
    for i in range(rows):
        khmer = i % 5 == 0
        ws.append(
            [
                categories[i % 4],
                f"អាហារថ្ងៃត្រង់ {i}" if khmer else f"Lunch for participants, day {i}",
                "person",
                1 + i % 30,
                3.5 if i % 3 else 14000,
                "EUR" if i % 3 else "KHR",
                activity if i % 2 else None,
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def measure(rows: int) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ccop.models import CoP, Organisation, User
    from grants.models import Fund
    from proposals import services, spreadsheets
    from proposals.models import BudgetLine
    from tests import factories
    from tests.factories import ready_proposal

    # Names made by the factories stay unique in a database used before.
    for factory, model in (
        (factories.CoPFactory, CoP),
        (factories.OrganisationFactory, Organisation),
        (factories.UserFactory, User),
        (factories.FundFactory, Fund),
    ):
        factory.reset_sequence((model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1)

    cap = max(rows, services.BUDGET_IMPORT_MAX_LINES)
    services.BUDGET_IMPORT_MAX_LINES = cap  # lifted for the bench only, wherever it was copied
    for module in (
        spreadsheets,
        *(getattr(spreadsheets, name, None) for name in ("reader", "template", "archive")),
    ):
        if module is not None and hasattr(module, "MAX_ROWS"):
            module.MAX_ROWS = cap
        if module is not None and hasattr(module, "MAX_SHEET_ROWS"):
            module.MAX_SHEET_ROWS = 20 * cap
    proposal, staff = ready_proposal(endorse=False)
    content = workbook(rows, "Big performance day")
    started = time.perf_counter()
    preview = spreadsheets.read_budget_upload(SimpleUploadedFile("budget.xlsx", content), proposal=proposal)
    validate = time.perf_counter() - started
    assert not preview.errors, preview.errors[:3]
    started = time.perf_counter()
    services.budget_import_apply(
        proposal=proposal,
        acting_user=staff[0],
        rows=spreadsheets.preview_rows_for_service(preview.rows),
        mode="replace",
        source="bench",
    )
    save = time.perf_counter() - started
    saved = BudgetLine.objects.filter(proposal=proposal).count()
    assert saved == rows and BudgetLine.history.filter(proposal_id=proposal.pk).count() >= rows
    return {"rows": rows, "file_kib": len(content) / 1024, "validate": validate, "save": save}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    common.setup_django()
    from proposals.services import BUDGET_IMPORT_MAX_LINES

    figures = [measure(BUDGET_IMPORT_MAX_LINES), measure(args.rows)]
    for f in figures:
        print(
            f"{f['rows']:6d} rows ({f['file_kib']:.0f} KiB): validate {f['validate']:.2f} s, save {f['save']:.2f} s"
        )
    if args.json:
        print(json.dumps({"cap": BUDGET_IMPORT_MAX_LINES, "figures": figures}))


if __name__ == "__main__":
    main()
