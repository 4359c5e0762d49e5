"""Server time of the budget import for hostile workbooks and for the largest real budget.

    .venv/bin/python bench/import_hostile.py            # everything (a few minutes)
    .venv/bin/python bench/import_hostile.py --quick    # one part per hostile case

A throwaway SQLite database in a temporary folder holds one draft proposal with 20 activities
(long Khmer titles). Each file is posted to the import page through Django's test client, as
the browser would, and timed from the request to the response (wall and CPU time of this
process: the server's work, without a network). The files are those of
`tests/security/test_hostile_workbooks.py`: every part of a real template made hostile in turn
(the slowest part of each case is reported), hostile archives, then files built to sit just
inside every limit (what openpyxl may still be asked to read), and the largest real budget
(2,000 lines, 250-character Khmer descriptions) as the template writes it and as Excel saves
it, previewed then saved. The part sizes and markup of that budget are printed first: the limits
in `proposals/spreadsheets/limits.py` are chosen from them.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    folder = tempfile.mkdtemp(prefix="ccop-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccop.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    from proposals import services
    from proposals.spreadsheets import limits
    from proposals.spreadsheets.limits import PartLimit
    from proposals.spreadsheets.parts import read_part
    from tests.factories import ready_proposal
    from tests.proposals.workbooks import as_excel_saves_it, big_activity_titles, big_budget, parts_of, rezip
    from tests.security import test_hostile_workbooks as hostile

    proposal, staff = ready_proposal()
    titles = big_activity_titles()
    for title in titles:
        services.activity_add(proposal=proposal, acting_user=staff[0], title=title)
    client = Client()
    client.force_login(staff[0])
    address = reverse("proposals:proposal-budget-import", args=[proposal.pk])

    def post(content: bytes):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(address, {"file": SimpleUploadedFile("budget.xlsx", content)})

    def refusal(response) -> str:
        text = response.content.decode()
        if 'name="token"' in text:
            return "previewed"
        return (
            f"refused ({response.status_code})" if "Nothing was saved" in text else str(response.status_code)
        )

    print("# The largest real budget: 2,000 lines, Khmer descriptions of 250 characters\n")
    template_form = big_budget(titles)
    excel_form = as_excel_saves_it(template_form)
    unlimited = PartLimit(bytes=10**10, markup=10**10)
    for label, content in (("as the template writes it", template_form), ("as Excel saves it", excel_form)):
        print(f"{label}: {len(content) / 1024:.0f} KB uploaded")
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for info in archive.infolist():
                reading = read_part(archive, info, unlimited, markup_left=10**10)
                print(f"  {info.filename:30} {reading.bytes / 1024:9.1f} KB  {reading.markup:8,} markup")
    print()
    print("| normal import | preview (wall / CPU) | save (wall / CPU) |")
    print("| --- | --- | --- |")
    for label, content in (("as the template writes it", template_form), ("as Excel saves it", excel_form)):
        response, wall, cpu = timed(lambda content=content: post(content))
        token = response.content.decode().split('name="token" value="', 1)[1].split('"', 1)[0]
        saved, save_wall, save_cpu = timed(
            lambda token=token: client.post(address, {"token": token, "mode": "replace"})
        )
        assert saved.status_code == 302, saved.status_code
        print(f"| 2,000 lines {label} | {wall:.2f} s / {cpu:.2f} s | {save_wall:.2f} s / {save_cpu:.2f} s |")

    print("\n# Hostile parts: each case on every part of the template (the slowest part shown)\n")
    print("| case | parts | slowest part | wall | CPU | outcome |")
    print("| --- | --- | --- | --- | --- | --- |")
    template = as_excel_saves_it(big_budget(titles, lines=3))
    names = list(parts_of(template))
    if args.quick:
        names = ["xl/worksheets/sheet1.xml"]
    for case, make, _code in hostile.HOSTILE:
        slowest = (0.0, 0.0, "", "")
        for name in names:
            content, _size = hostile.hostile_workbook(template, name, make)
            response, wall, cpu = timed(lambda content=content: post(content))
            if wall > slowest[0]:
                slowest = (wall, cpu, name, refusal(response))
        print(
            f"| {case} | {len(names)} | {slowest[2]} | {slowest[0]:.3f} s | {slowest[1]:.3f} s | {slowest[3]} |"
        )

    print("\n# Hostile archives\n")
    print("| case | uploaded | wall | CPU | outcome |")
    print("| --- | --- | --- | --- | --- |")
    for case, build, _code in hostile.ARCHIVES:
        content = build(template)
        response, wall, cpu = timed(lambda content=content: post(content))
        print(f"| {case} | {len(content) / 1024:.0f} KB | {wall:.3f} s | {cpu:.3f} s | {refusal(response)} |")

    print("\n# Just inside the limits (accepted by the checks: what openpyxl may still be asked)\n")
    print("| case | uploaded | wall | CPU | outcome |")
    print("| --- | --- | --- | --- | --- |")
    for case, content in inside_the_limits(template, limits, rezip, parts_of):
        response, wall, cpu = timed(lambda content=content: post(content))
        print(f"| {case} | {len(content) / 1024:.0f} KB | {wall:.3f} s | {cpu:.3f} s | {refusal(response)} |")


def inside_the_limits(template, limits, rezip, parts_of):
    """Files that pass every check with as much markup as the limits allow, in the shapes that
    cost openpyxl most (per element)."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    parts = parts_of(template)
    sheet = parts["xl/worksheets/sheet1.xml"]
    end = sheet.index(b"</sheetData>")
    cells = limits.SHEET.markup // 3 - 2000  # <c r="..."> <v>: 3 each
    rows = b"".join(b'<row r="%d"><c r="H%d"><v>1</v></c></row>' % (i + 5, i + 5) for i in range(cells // 2))
    yield (
        "Budget sheet of single-cell rows",
        rezip(template, replace={"xl/worksheets/sheet1.xml": sheet[:end] + rows + sheet[end:]}),
    )
    wide = b'<row r="5">' + b"".join(b'<c r="B5"><v>%d</v></c>' % i for i in range(cells)) + b"</row>"
    yield (
        "one row of 100,000 cells",
        rezip(template, replace={"xl/worksheets/sheet1.xml": sheet[:end] + wide + sheet[end:]}),
    )
    strings = limits.SHARED_STRINGS.markup - 20_000
    sst = b"<sst " + ns + b">" + parts["xl/sharedStrings.xml"].split(b">", 2)[2].rsplit(b"</sst>", 1)[0]
    sst += b"<si><t>a</t></si>" * (strings // 2) + b"</sst>"
    yield "shared strings of tiny strings", rezip(template, replace={"xl/sharedStrings.xml": sst})
    styles = parts["xl/styles.xml"]
    xfs = (limits.OTHER.markup - 2000) // 5
    at = styles.index(b"</cellXfs>")
    dense = styles[:at] + b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>' * xfs + styles[at:]
    yield "styles of cell formats", rezip(template, replace={"xl/styles.xml": dense})


if __name__ == "__main__":
    main()
