"""Time and peak memory of exporting a fund's budget workbook, next to openpyxl's write-only mode
writing the same cells alone (no database, no Django).

    .venv/bin/python bench/export_fund.py                  # 100,000 lines (and 20,000 to compare)
    .venv/bin/python bench/export_fund.py --lines 100000   # one size only
    .venv/bin/python bench/export_fund.py --tracemalloc    # Python allocations too (slower)

Each size gets a throwaway SQLite database in a temporary folder (50 proposals of one fund, the
lines made with bulk_create); each measurement runs in its own process, so its peak resident
memory (getrusage's maxrss) is its own. "after start-up" is the resident memory once Django (or
openpyxl alone) is imported and the database is open, before the export starts; "peak" minus it
is what the export itself needed. "CPU" is the process's user + system time for the export
alone, steadier than the wall time on a busy machine.

openpyxl writes XML much faster with lxml installed (it falls back to a pure-Python writer
without it); `PYTHONPATH=/path/to/lxml-site` shows the difference without touching the venv.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROPOSALS = 50
CATEGORIES = ["personnel", "travel", "venue", "meals", "materials", "communication", "other"]
CURRENCIES = ["EUR", "USD", "KHR"]


def line_values(i: int) -> tuple:
    """The i-th line (shared by the database set-up and the openpyxl-only baseline)."""
    currency = CURRENCIES[i % 3]
    return (
        CATEGORIES[i % 7],
        f"Budget line {i}: lunch and refreshments for the participants of the session",
        "person",
        Decimal(10 + i % 40),
        Decimal("3.25") if currency != "KHR" else Decimal("13000.00"),
        currency,
    )


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- child processes


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccop.settings.test")
    import django

    django.setup()


def setup_database(lines: int) -> None:
    django_setup()
    from django.core.management import call_command

    from proposals import services
    from proposals.models import BudgetLine
    from tests.factories import CoPFactory, CountryProgrammeFactory, FundFactory, ready_proposal

    call_command("migrate", verbosity=0)
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme, ceiling=Decimal("10000000.00"))
    proposals = []
    for _ in range(PROPOSALS):
        proposal, staff = ready_proposal(fund=fund, cop=cop, endorse=False)
        services.exchange_rate_set(
            proposal=proposal, acting_user=staff[0], currency="USD", rate=Decimal("0.92")
        )
        services.exchange_rate_set(
            proposal=proposal, acting_user=staff[0], currency="KHR", rate=Decimal("0.000225")
        )
        proposals.append((proposal, proposal.activities.get()))
    BudgetLine.objects.all().delete()
    batch = []
    for i in range(lines):
        proposal, activity = proposals[i % PROPOSALS]
        category, description, unit, quantity, unit_cost, currency = line_values(i)
        batch.append(
            BudgetLine(
                proposal=proposal,
                activity=activity if i % 2 else None,
                category=category,
                description=description,
                unit=unit,
                quantity=quantity,
                unit_cost=unit_cost,
                currency=currency,
                order=i,
            )
        )
        if len(batch) == 5000:
            BudgetLine.objects.bulk_create(batch)
            batch = []
    BudgetLine.objects.bulk_create(batch)


def measure_export(out_path: str, trace: bool) -> dict:
    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grants.models import Fund
    from proposals.models import Proposal
    from proposals.spreadsheets import write_budget_workbook

    fund = Fund.objects.get()
    proposals = Proposal.objects.filter(fund=fund)
    start_rss = rss_kib()
    if trace:
        import tracemalloc

        tracemalloc.start()
    started, cpu = time.perf_counter(), cpu_seconds()
    with open(out_path, "wb") as out, CaptureQueriesContext(connection) as queries:
        write_budget_workbook(out, fund=fund, proposals=proposals, fund_wide=True)
    result = {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds() - cpu,
        "start_kib": start_rss,
        "peak_kib": peak_kib(),
        "queries": len(queries),
    }
    if trace:
        result["traced_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
    return result


def measure_baseline(out_path: str, lines: int, trace: bool) -> dict:
    """The same three sheets and cells (values, number formats, quote-prefix-free text) with
    openpyxl alone: the floor any export of these lines pays."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    start_rss = rss_kib()
    if trace:
        import tracemalloc

        tracemalloc.start()
    started, cpu = time.perf_counter(), cpu_seconds()
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("Summary")
    ws = wb.create_sheet("Budget lines")
    subtotals = wb.create_sheet("Subtotals")
    ws.freeze_panes = "A2"
    ws.append(
        [
            "Proposal no.",
            "Proposal",
            "Activity",
            "Category",
            "Description",
            "Unit",
            "Quantity",
            "Unit cost",
            "Currency",
            "Line total",
            "Total in EUR",
        ]
    )
    formats = {c: f'#,##0.00 "{c}"' for c in CURRENCIES}

    def money_cell(value, currency):
        cell = WriteOnlyCell(ws, value)
        cell.number_format = formats[currency]
        return cell

    rates = {"EUR": Decimal(1), "USD": Decimal("0.92"), "KHR": Decimal("0.000225")}
    for i in range(lines):
        category, description, unit, quantity, unit_cost, currency = line_values(i)
        total = (quantity * unit_cost).quantize(Decimal("0.01"))
        ws.append(
            [
                i % PROPOSALS + 1,
                "Amplify the voice of the community through theatre",
                "Big performance day" if i % 2 else None,
                category,
                description,
                unit,
                quantity,
                money_cell(unit_cost, currency),
                currency,
                money_cell(total, currency),
                money_cell((total * rates[currency]).quantize(Decimal("0.01")), "EUR"),
            ]
        )
    for p in range(PROPOSALS):
        summary.append(
            [p + 1, "Amplify the voice of the community through theatre", "CoP", "ORG1, ORG2", "Draft"]
        )
        for c in CATEGORIES:
            subtotals.append(["Category", p + 1, "Amplify", c, "EUR", Decimal("1.00"), Decimal("1.00"), 1])
    wb.save(out_path)
    result = {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds() - cpu,
        "start_kib": start_rss,
        "peak_kib": peak_kib(),
        "queries": 0,
    }
    if trace:
        result["traced_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
    return result


# --------------------------------------------------------------------------- the parent


def child(args: list[str], env: dict) -> dict:
    output = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, __file__, *args], env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1]) if output.strip() else {}


def run(lines: int, trace: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="ccop-bench-") as folder:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "DJANGO_SETTINGS_MODULE": "ccop.settings.test",
        }
        started = time.perf_counter()
        child(["--child", "setup", "--lines", str(lines)], env)
        print(
            f"\n{lines:,} budget lines in {PROPOSALS} proposals (set up in {time.perf_counter() - started:.1f} s)"
        )
        extra = ["--tracemalloc"] if trace else []
        results = {
            "fund export (portal)": child(["--child", "export", "--out", f"{folder}/fund.xlsx", *extra], env),
            "openpyxl write-only alone": child(
                ["--child", "baseline", "--lines", str(lines), "--out", f"{folder}/baseline.xlsx", *extra],
                env,
            ),
        }
        sizes = {
            "fund export (portal)": f"{folder}/fund.xlsx",
            "openpyxl write-only alone": f"{folder}/baseline.xlsx",
        }
        header = f"{'':28} {'time':>8} {'CPU':>8} {'after start-up':>15} {'peak RSS':>10} {'export needed':>14} {'queries':>8} {'file':>9}"
        if trace:
            header += f" {'traced peak':>12}"
        print(header)
        for name, r in results.items():
            row = (
                f"{name:28} {r['seconds']:7.2f}s {r['cpu']:7.2f}s {r['start_kib'] / 1024:13.1f} MiB {r['peak_kib'] / 1024:6.1f} MiB"
                f" {(r['peak_kib'] - r['start_kib']) / 1024:10.1f} MiB {r['queries']:8d}"
                f" {os.path.getsize(sizes[name]) / 1024 / 1024:5.1f} MiB"
            )
            if trace:
                row += f" {r['traced_peak_kib'] / 1024:8.1f} MiB"
            print(row)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=None)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON (bench/run.py)")
    parser.add_argument("--child", choices=["setup", "export", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        setup_database(args.lines)
        print("{}")
    elif args.child == "export":
        print(json.dumps(measure_export(args.out, args.tracemalloc)))
    elif args.child == "baseline":
        print(json.dumps(measure_baseline(args.out, args.lines, args.tracemalloc)))
    else:
        figures = {}
        for lines in [args.lines] if args.lines else [20_000, 100_000]:
            figures[lines] = run(lines, args.tracemalloc)
        if args.json:
            print(json.dumps(figures))


if __name__ == "__main__":
    main()
