"""`make bench`: every figure of issue 13 in one run, side by side, with the machine it ran on
and its load average, as one Markdown report (stdout and test-results/bench-<time>.md).

    .venv/bin/python bench/run.py [--scale 1] [--reuse-scale] [--skip load,pdf,...]

1. queries and HTML bytes of every page the sweep knows, as each role, demo and scale;
2. p50/p95 under load (gunicorn, 2 workers, 10 clients) of the main pages and the floor view;
3. the approved PDF (20 activities, 300 lines, Khmer) next to WeasyPrint alone;
4. the fund workbook of 100,000 lines next to openpyxl write-only alone: time and peak memory;
5. a budget import of 5,000 rows: validate and save;
6. concurrent approvals on one fund: approvals per second, ceiling held.

Databases (PostgreSQL, BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432) are named
ccop_bench_<part> and made anew each run; `--reuse-scale` keeps the scale dataset of an earlier
run (seeding it takes a minute or two)."""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.pages import table  # noqa: E402

PARTS = ("pages", "load", "pdf", "workbook", "import", "approvals")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def databases(scale: float, reuse: bool) -> None:
    log("static files")
    subprocess.run(  # noqa: S603 - our own code
        [
            sys.executable,
            "-c",
            "from bench import common; common.setup_django(); "
            "from tests.staticfiles import ensure_collected; ensure_collected()",
        ],
        env=common.env_for(common.database_url("demo")),
        cwd=common.ROOT,
        check=True,
    )
    log("demo database")
    common.manage(common.recreate_database("demo"), "seed_demo", "-v0")
    if reuse and common.database_exists("scale"):
        log("scale database kept from an earlier run")
    else:
        log(f"scale database (seed_demo + seed_scale --scale {scale})")
        url = common.recreate_database("scale")
        common.manage(url, "seed_demo", "-v0")
        log(common.manage(url, "seed_scale", "--scale", str(scale)).strip())


def pages_section() -> list[str]:
    log("pages at demo size")
    demo = common.child_json("pages.py", common.database_url("demo"), "--child")
    log("pages at scale")
    scale = common.child_json("pages.py", common.database_url("scale"), "--child")
    rows, missed = table(demo, scale)
    summary = [
        f"- pages × roles measured: {len(scale)}; " + "; ".join(f"{k}: {len(v)}" for k, v in missed.items())
    ]
    for key, items in missed.items():
        names = sorted({f"{m['name']} ({m['role']})" for m in items})
        if names:
            summary.append(f"  - {key}: " + ", ".join(names[:40]) + (" …" if len(names) > 40 else ""))
    return ["## 1. Pages: queries and HTML, demo and scale", "", *summary, "", *rows]


def load_section() -> list[str]:
    log("load (gunicorn, 2 workers, 10 clients)")
    data = common.child_json("load.py", common.database_url("scale"), timeout=3600)
    floors = [r for r in data["results"] if r["page"] == "floor view"]
    floor = min(r["p95"] for r in floors)
    rows = [
        f"Floor p95 (the lower of the two floor runs): {floor * 1000:.0f} ms; load average at the end: "
        f"{data['load_average']}.",
        "",
        "| page | role | requests | errors | HTML KB | p50 ms | p95 ms | p95 ÷ floor p95 | target ≤ 5× |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in data["results"]:
        ratio = r["p95"] / floor
        rows.append(
            f"| {r['page']} | {r['role']} | {r['n']} | {r['errors']} | {r.get('bytes', 0) / 1024:.1f} "
            f"| {r['p50'] * 1000:.0f} | {r['p95'] * 1000:.0f} | {ratio:.1f} | {'yes' if ratio <= 5 else 'no'} |"
        )
    return ["## 2. Under load: p50 / p95 next to the floor view", "", *rows]


def pdf_section() -> list[str]:
    log("approved PDF")
    f = common.child_json("pdf_render.py", None, "--json", "--runs", "3")
    ratio = f["full"] / f["alone"]
    return [
        "## 3. Approved PDF (20 activities, 300 lines, Khmer) next to WeasyPrint alone",
        "",
        "| | wall s | CPU s |",
        "|---|---:|---:|",
        f"| render_proposal_pdf (official, {f['pages']} pages, {f['pdf_kib']:.0f} KiB) | {f['full']:.2f} | {f['full_cpu']:.2f} |",
        f"| of which context + template | {f['template']:.2f} | |",
        f"| WeasyPrint alone, same HTML | {f['alone']:.2f} | {f['alone_cpu']:.2f} |",
        f"| ratio (target ≤ 1.3) | {ratio:.2f} | {f['full_cpu'] / f['alone_cpu']:.2f} |",
    ]


def workbook_section() -> list[str]:
    log("fund workbook, 100,000 lines")
    f = common.child_json("export_fund.py", None, "--lines", "100000", "--json", timeout=3600)["100000"]
    portal, alone = f["fund export (portal)"], f["openpyxl write-only alone"]
    rows = [
        "## 4. Fund workbook, 100,000 lines, next to openpyxl write-only alone",
        "",
        "| | time s | CPU s | peak RSS MiB | export needed MiB | queries |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in (("fund export (portal)", portal), ("openpyxl write-only alone", alone)):
        rows.append(
            f"| {name} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['peak_kib'] / 1024:.0f} "
            f"| {(r['peak_kib'] - r['start_kib']) / 1024:.0f} | {r['queries']} |"
        )
    rows.append(
        f"| ratio (target ≤ 2×, peak < 300 MB) | {portal['seconds'] / alone['seconds']:.2f} "
        f"| {portal['cpu'] / alone['cpu']:.2f} | {portal['peak_kib'] / 1024:.0f} | | |"
    )
    return rows


def import_section() -> list[str]:
    log("budget import")
    url = common.recreate_database("import")
    f = common.child_json("budget_import.py", url, "--json", "--rows", "5000")
    rows = [
        "## 5. Budget import: validate (read and check the file) and save",
        "",
        f"The portal accepts at most {f['cap']:,} rows per file; 5,000 rows are timed with that cap lifted in "
        "the bench's own process.",
        "",
        "| rows | file KiB | validate s | save s |",
        "|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {r['rows']:,} | {r['file_kib']:.0f} | {r['validate']:.2f} | {r['save']:.2f} |"
        for r in f["figures"]
    ]
    return rows


def approvals_section() -> list[str]:
    log("concurrent approvals")
    url = common.recreate_database("approvals")
    f = common.child_json("approvals.py", url, "--json")
    return [
        "## 6. Concurrent approvals on one fund (separate processes, real PDFs)",
        "",
        "| processes | proposals | ceiling | approved | refused | approved total | seconds | approvals/s | ceiling held |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {f['processes']} | {f['proposals']} | {f['ceiling']} | {f['approved']} | {f['refused']} "
        f"| {f['approved_total']} | {f['seconds']:.1f} | {f['per_second']:.2f} | {'yes' if f['ceiling_held'] else 'NO'} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reuse-scale", action="store_true")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: " + ", ".join(PARTS))
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = datetime.datetime.now(datetime.UTC)
    m = common.machine()
    head = [
        f"# Bench run {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['system']}; Python {m['python']}; "
        f"PostgreSQL at {common.SERVER.rsplit('@', 1)[-1]}. Scale factor {args.scale}.",
        f"Load average (1/5/15 min) at the start: {common.load_average()}.",
    ]
    print("\n".join(head), flush=True)
    if {"pages", "load"} - skip:
        databases(args.scale, args.reuse_scale)
    sections = {
        "pages": pages_section,
        "load": load_section,
        "pdf": pdf_section,
        "workbook": workbook_section,
        "import": import_section,
        "approvals": approvals_section,
    }
    body = []
    for name, make in sections.items():
        if name in skip:
            continue
        try:
            part = make()
        except Exception as exc:  # one part failing still reports the others
            part = [f"## {name}: failed", "", f"    {type(exc).__name__}: {str(exc)[-2000:]}"]
        part.append(f"\n_Load average after this part: {common.load_average()}._")
        print("\n" + "\n".join(part), flush=True)
        body += ["", *part]
    tail = f"\nFinished in {(datetime.datetime.now(datetime.UTC) - started).total_seconds() / 60:.1f} min."
    print(tail)
    out = common.ROOT / "test-results" / f"bench-{started:%Y%m%d-%H%M}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join([*head, *body, tail]) + "\n")
    log(f"report: {out}")


if __name__ == "__main__":
    main()
