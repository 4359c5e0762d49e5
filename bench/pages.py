"""Queries and HTML bytes of every page the sweep knows (tests/browser/sweep.py, from the URL
configuration), as each role that sees it, on the demo and on the scale dataset (PostgreSQL).

    .venv/bin/python bench/pages.py            # both sizes, a table on stdout
    .venv/bin/python bench/pages.py --child    # one size: DATABASE_URL's data, JSON (for run.py)

The pages about one proposal point at the largest proposal of each state in Voice Cambodia
(tests/page_census.py): at scale, 300 budget lines and 20 activities."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

QUERY_TARGET = 20
HTML_TARGET = 200 * 1024


def child() -> None:
    common.setup_django()
    from tests.page_census import census

    print(json.dumps([m.__dict__ for m in census()]))


def table(demo: list[dict], scale: list[dict]) -> tuple[list[str], dict]:
    """Markdown rows, one per page and role, and a summary of the targets missed."""
    at_demo = {(m["role"], m["name"], m["label"]): m for m in demo}
    rows = [
        "| page | variant | role | status | queries demo | queries scale | HTML KB demo | HTML KB scale | targets |",
        "|---|---|---|---|---:|---:|---:|---:|---|",
    ]
    missed = {"queries over 20": [], "queries grow": [], "HTML over 200 KB": []}
    for m in sorted(scale, key=lambda m: (m["name"], m["label"], m["role"])):
        d = at_demo.get((m["role"], m["name"], m["label"]))
        flags = []
        if m["status"] == 200 and m["queries"] > QUERY_TARGET:
            flags.append(">20 q")
            missed["queries over 20"].append(m)
        if d and d["status"] == m["status"] and m["queries"] > d["queries"]:
            flags.append("grows")
            missed["queries grow"].append(m)
        if m["html_bytes"] > HTML_TARGET:
            flags.append(">200 KB")
            missed["HTML over 200 KB"].append(m)
        rows.append(
            f"| {m['name']} | {m['label']} | {m['role']} | {m['status']} "
            f"| {d['queries'] if d else '–'} | {m['queries']} "
            f"| {d['html_bytes'] / 1024:.1f} | {m['html_bytes'] / 1024:.1f} | {' '.join(flags)} |"
            if d
            else f"| {m['name']} | {m['label']} | {m['role']} | {m['status']} | – | {m['queries']} | – "
            f"| {m['html_bytes'] / 1024:.1f} | {' '.join(flags)} |"
        )
    return rows, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child()
        return
    demo = common.child_json("pages.py", common.database_url("demo"), "--child")
    scale = common.child_json("pages.py", common.database_url("scale"), "--child")
    rows, _missed = table(demo, scale)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
