"""Workbooks made from code for the import's tests and `bench/import_hostile.py`: the largest real
budget the import takes, as the portal's template writes it and as Excel saves it, and the tools
to turn any of its parts hostile."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

from proposals import spreadsheets
from proposals.models import BudgetLine, PlannedActivity

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "km" / "LC_MESSAGES" / "django.po"
BIG_LINES = spreadsheets.MAX_ROWS
BIG_ACTIVITIES = 20
CURRENCIES = ["EUR", "USD", "KHR"]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHARED_STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def khmer_text() -> str:
    """Khmer prose: the portal's own Khmer translations, one after the other."""
    text = LOCALE.read_text(encoding="utf-8")
    return " ".join(m for m in re.findall(r'msgstr "(.*)"', text) if re.search("[\u1780-\u17ff]", m))


def khmer_piece(text: str, i: int, length: int) -> str:
    """`length` characters of `text` from a place that depends on `i`, with no space at either
    end (a space there would be trimmed by the import)."""
    start = (i * 137) % (len(text) - 3 * length)
    piece = " ".join(text[start : start + 2 * length].split())[:length]
    return "។" + piece[1:-1] + "។" if length > 1 else piece


def big_activity_titles() -> list[str]:
    text = khmer_text()
    return [f"{i + 1}. {khmer_piece(text, 1000 + i * 7, 245)}" for i in range(BIG_ACTIVITIES)]


def big_budget(titles: list[str] | None = None, lines: int = BIG_LINES) -> bytes:
    """The largest budget the import takes, as the portal's template writes it: `lines` lines,
    each with a 250-character Khmer description, a 40-character Khmer unit and one of 20
    activities with 250-character Khmer titles (`titles`: the proposal's own)."""
    text = khmer_text()
    titles = titles or big_activity_titles()
    activities = [PlannedActivity(pk=i + 1, title=t) for i, t in enumerate(titles)]
    categories = [code for code, _label in BudgetLine.Category.choices]
    budget = [
        BudgetLine(
            category=categories[i % len(categories)],
            description=f"{i + 1} " + khmer_piece(text, i, 250 - len(f"{i + 1} ")),
            unit=khmer_piece(text, i + 7, 40),
            quantity=Decimal(i % 50 + 1),
            unit_cost=Decimal("12.50") if i % 3 != 2 else Decimal("52000"),
            currency=CURRENCIES[i % 3],
            activity_id=activities[i % len(activities)].pk,
        )
        for i in range(lines)
    ]
    out = io.BytesIO()
    spreadsheets.write_budget_template(out, currencies=CURRENCIES, activities=activities, lines=budget)
    return out.getvalue()


INLINE = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?) t="inlineStr"><is><t>(.*?)</t></is></c>', re.DOTALL)


def as_excel_saves_it(content: bytes) -> bytes:
    """The workbook with every text cell moved to a shared-strings part, as Excel and
    LibreOffice save it (openpyxl writes text in the sheet)."""
    strings: dict[str, int] = {}

    def shared(match: re.Match) -> str:
        index = strings.setdefault(match.group(3), len(strings))
        return f'<c r="{match.group(1)}"{match.group(2)} t="s"><v>{index}</v></c>'

    replace = {}
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        for name in source.namelist():
            if name.startswith("xl/worksheets/sheet"):
                replace[name] = INLINE.sub(shared, source.read(name).decode()).encode()
        types = source.read("[Content_Types].xml").decode()
        rels = source.read("xl/_rels/workbook.xml.rels").decode()
    table = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in strings)
    replace["[Content_Types].xml"] = types.replace(
        "</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/></Types>',
    ).encode()
    replace["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Type="{SHARED_STRINGS_REL}" Target="sharedStrings.xml" Id="rIdStrings"/></Relationships>',
    ).encode()
    sst = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{table}</sst>'
    return rezip(content, replace=replace, add={"xl/sharedStrings.xml": sst.encode()})


def rezip(content: bytes, add: dict[str, bytes] | None = None, replace=None, drop=(), stored=False) -> bytes:
    """The workbook `content` with parts added, replaced or dropped."""
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", method) as target:
        for item in source.infolist():
            if item.filename in drop:
                continue
            target.writestr(item.filename, (replace or {}).get(item.filename, source.read(item.filename)))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def parts_of(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
