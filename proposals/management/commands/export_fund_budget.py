"""Write a fund's budget workbook (every proposal of the fund) to a file, like the facilitators'
download in the portal. Lives in `proposals` because the workbook reads proposals; `grants`
does not import `proposals` (DESIGN: apps lean one way)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grants.models import Fund
from proposals.models import Proposal
from proposals.spreadsheets import write_budget_workbook


class Command(BaseCommand):
    help = "Export a fund's budget workbook (summary, budget lines, subtotals) to an XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("fund", help="The fund's id or exact name.")
        parser.add_argument(
            "-o", "--output", help="The file to write (default: fund-<id>-budget-<date>.xlsx)."
        )

    def handle(self, *args, fund: str, output: str | None, **options):
        found = Fund.objects.filter(pk=int(fund)) if fund.isdigit() else Fund.objects.filter(name=fund)
        fund_obj = found.first()
        if fund_obj is None:
            raise CommandError(f"No fund {fund!r}.")
        path = Path(output or f"fund-{fund_obj.pk}-budget-{timezone.localdate().isoformat()}.xlsx")
        with path.open("wb") as out:
            write_budget_workbook(
                out, fund=fund_obj, proposals=Proposal.objects.filter(fund=fund_obj), fund_wide=True
            )
        self.stdout.write(self.style.SUCCESS(f"Wrote {path} ({path.stat().st_size:,} bytes)."))
