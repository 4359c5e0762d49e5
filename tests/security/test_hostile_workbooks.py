"""Hostile workbooks, made from code: every part of a real template workbook is tried hostile in
turn (DTDs in every encoding, encodings the portal cannot check, sizes past the part's limit,
too much markup, deep nesting, an archive inside), under its own name and renamed, and each is
refused before openpyxl is reached, through the reader and through the import page, with the
budget unchanged. Refused "before parsing" is shown structurally: `load_workbook` is never
called, oversized parts are not unpacked at all, and a hostile part is not read to its end.
Times are in `bench/import_hostile.py`, not here."""

from __future__ import annotations

import html
import io
import os
import re
import warnings
import zipfile
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from proposals import services, spreadsheets
from proposals.spreadsheets import limits, reader
from proposals.spreadsheets.archive import check_upload_container
from proposals.spreadsheets.rows import RowReader
from tests.factories import ready_proposal
from tests.proposals.test_budget_import import GOOD, state, xlsx
from tests.proposals.workbooks import as_excel_saves_it, big_activity_titles, big_budget, parts_of, rezip

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_budget_io")]

WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


# --------------------------------------------------------------------------- the real workbook


@pytest.fixture(scope="module")
def template() -> bytes:
    """The portal's template holding a proposal's lines and activities, as Excel saves it (so
    it has every part a real upload has, shared strings included)."""
    return as_excel_saves_it(big_budget(lines=3))


@pytest.fixture(scope="module")
def renamed(template) -> bytes:
    """The same workbook with its Budget sheet renamed `xl/worksheets/sheet1.bin` (the package's
    content types and relationships say where it is, as Excel allows)."""
    parts = parts_of(template)
    rels = parts["xl/_rels/workbook.xml.rels"].replace(
        b"/xl/worksheets/sheet1.xml", b"/xl/worksheets/sheet1.bin"
    )
    types = parts["[Content_Types].xml"].replace(b"/xl/worksheets/sheet1.xml", b"/xl/worksheets/sheet1.bin")
    return rezip(
        template,
        replace={"xl/_rels/workbook.xml.rels": rels, "[Content_Types].xml": types},
        drop={"xl/worksheets/sheet1.xml"},
        add={"xl/worksheets/sheet1.bin": parts["xl/worksheets/sheet1.xml"]},
    )


def expected_limit(name: str) -> limits.PartLimit:
    """The policy, written out: worksheets and the shared strings may be large, nothing else."""
    if name.startswith("xl/worksheets/sheet"):
        return limits.SHEET
    if name == "xl/sharedStrings.xml":
        return limits.SHARED_STRINGS
    return limits.OTHER


def test_the_real_template_has_the_parts_the_hostile_cases_replace(template, renamed):
    names = set(parts_of(template))
    assert {
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/app.xml",
        "docProps/core.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/theme/theme1.xml",
        "xl/sharedStrings.xml",
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
        "xl/worksheets/sheet3.xml",
    } == names
    check_upload_container(io.BytesIO(template), "b.xlsx", len(template))
    check_upload_container(io.BytesIO(renamed), "b.xlsx", len(renamed))


# --------------------------------------------------------------------------- hostile parts

DECLARATION = re.compile(rb"^<\?xml[^>]*\?>\s*")


def split_declaration(data: bytes) -> tuple[bytes, bytes]:
    match = DECLARATION.match(data)
    return (match.group(0), data[match.end() :]) if match else (b"", data)


def with_doctype(data: bytes, doctype: bytes) -> bytes:
    declaration, body = split_declaration(data)
    return declaration + doctype + body


INTERNAL = b'<!DOCTYPE x [<!ENTITY e "expanded text reaches the preview">]>'
EXTERNAL = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def reencoded(data: bytes, codec: str, *, bom: bytes = b"", declared: str | None = None) -> bytes:
    """The part in another encoding, with a DTD, its declaration naming that encoding."""
    _declaration, body = split_declaration(data)
    text = body.decode("utf-8")
    head = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    return bom + (head + INTERNAL.decode() + text).encode(codec, errors="xmlcharrefreplace")


def padded(data: bytes, size: int) -> bytes:
    """The part made `size` bytes long by a comment of random letters (1 bit per byte, so it
    packs about 7 to 1: neither a packing-ratio refusal nor an upload over 5 MB)."""
    declaration, body = split_declaration(data)
    filler = size - len(data) - len(b"<!---->")
    table = bytes(ord("a") if i & 1 else ord("b") for i in range(256))
    return declaration + b"<!--" + os.urandom(filler).translate(table) + b"-->" + body


def with_elements(data: bytes, markup: int) -> bytes:
    """Elements with one attribute each, `markup` elements and attributes in all, inside the
    part's root element; the attributes are random so the part packs no tighter than text."""
    end = data.rindex(b"</")
    values = os.urandom(3 * (markup // 2 + 1)).hex()
    elements = "".join(f'<x a="{values[i * 6 : i * 6 + 6]}"/>' for i in range(markup // 2 + 1))
    return data[:end] + elements.encode() + data[end:]


def nested(data: bytes, depth: int) -> bytes:
    end = data.rindex(b"</")
    return data[:end] + b"<x>" * depth + b"</x>" * depth + data[end:]


def zip_inside(_data: bytes) -> bytes:
    return xlsx([GOOD])


def ole_inside(_data: bytes) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)


# (id, how the part is made hostile (name, bytes) -> bytes, the code of the refusal)
HOSTILE = [
    ("internal entity", lambda n, d: with_doctype(d, INTERNAL), "xml_dtd"),
    ("external entity", lambda n, d: with_doctype(d, EXTERNAL), "xml_dtd"),
    (
        "DTD after a long comment",
        lambda n, d: with_doctype(d, b"<!--" + b" " * 200_000 + b"-->" + INTERNAL),
        "xml_dtd",
    ),
    (
        "UTF-16 with BOM",
        lambda n, d: reencoded(d, "utf-16-le", bom=b"\xff\xfe", declared="UTF-16"),
        "xml_dtd",
    ),
    ("UTF-16 BE without BOM", lambda n, d: reencoded(d, "utf-16-be", declared="UTF-16"), "xml_dtd"),
    ("UTF-16 LE, no declaration", lambda n, d: reencoded(d, "utf-16-le"), "xml_dtd"),
    (
        "UTF-32 with BOM",
        lambda n, d: reencoded(d, "utf-32-le", bom=b"\xff\xfe\x00\x00", declared="UTF-32"),
        "xml_dtd",
    ),
    ("UTF-32 BE without BOM", lambda n, d: reencoded(d, "utf-32-be"), "xml_dtd"),
    ("UTF-8 BOM", lambda n, d: reencoded(d, "utf-8", bom=b"\xef\xbb\xbf", declared="UTF-8"), "xml_dtd"),
    ("Latin-1 declared", lambda n, d: reencoded(d, "latin-1", declared="ISO-8859-1"), "xml_dtd"),
    (
        "UTF-7 declared",
        lambda n, d: b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE x+AD4-' + split_declaration(d)[1],
        "xml_encoding",
    ),
    ("EBCDIC", lambda n, d: '<?xml version="1.0" encoding="IBM037"?><x/>'.encode("cp037"), "xml_encoding"),
    (
        "UTF-8 bytes declared UTF-16",
        lambda n, d: b'<?xml version="1.0" encoding="UTF-16"?><x/>',
        "xml_encoding",
    ),
    ("unknown encoding", lambda n, d: b'<?xml version="1.0" encoding="x-no-such"?><x/>', "xml_encoding"),
    (
        "declaration never closed",
        lambda n, d: b'<?xml version="1.0"' + b" " * 100_000 + b"?><x/>",
        "xml_encoding",
    ),
    ("past its size limit", lambda n, d: padded(d, expected_limit(n).bytes + 1), "part_too_big"),
    ("past its markup limit", lambda n, d: with_elements(d, 2 * expected_limit(n).markup), "too_much_markup"),
    ("nested 101 deep", lambda n, d: nested(d, limits.MAX_DEPTH + 1), "xml_too_deep"),
    ("a zip inside", lambda n, d: zip_inside(d), "embedded_file"),
    ("an OLE file inside", lambda n, d: ole_inside(d), "embedded_file"),
]


class Spy:
    """What the reading did: bytes unpacked per part, and whether openpyxl was reached."""

    def __init__(self, monkeypatch):
        self.unpacked: Counter[str] = Counter()
        self.opened_by_openpyxl = 0
        original = zipfile.ZipExtFile.read
        spy = self

        def read(self, n=-1):
            data = original(self, n)
            spy.unpacked[self.name] += len(data)
            return data

        def load_workbook(*args, **kwargs):
            spy.opened_by_openpyxl += 1
            raise AssertionError("openpyxl reached")

        monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
        monkeypatch.setattr(reader, "load_workbook", load_workbook)


@pytest.fixture
def spy(monkeypatch):
    return Spy(monkeypatch)


def hostile_workbook(base: bytes, name: str, make) -> tuple[bytes, int]:
    """`base` with the part `name` made hostile; and the hostile part's size."""
    data = make(name, parts_of(base)[name])
    return rezip(base, replace={name: data}), len(data)


def upload(content: bytes, name: str = "budget.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=spreadsheets.XLSX_CONTENT_TYPE)


@pytest.mark.parametrize(("case", "make", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
@pytest.mark.parametrize("sheet_name", ["xml", "bin"])
def test_every_part_made_hostile_is_refused_before_openpyxl(
    template, renamed, spy, case, make, code, sheet_name
):
    base = template if sheet_name == "xml" else renamed
    proposal, _staff = ready_proposal()
    for name in parts_of(base):
        content, size = hostile_workbook(base, name, make)
        spy.unpacked.clear()  # what the reader unpacks, not what the test did to build the file
        preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
        assert [e.code for e in preview.errors] == [code], (name, [str(e) for e in preview.errors])
        assert preview.rows == [] and preview.display == []
        if code == "part_too_big":
            assert spy.unpacked[name] == 0, name  # refused on the size the archive declares
        elif case == "past its markup limit":
            assert spy.unpacked[name] < size, name  # refused while reading, not after
    assert spy.opened_by_openpyxl == 0


def test_a_dtd_at_the_start_of_a_large_part_is_refused_after_its_first_chunk(template, spy):
    proposal, _staff = ready_proposal()
    name = "xl/worksheets/sheet1.xml"
    content = rezip(template, replace={name: INTERNAL + padded(parts_of(template)[name], 8 * 1024 * 1024)})
    spy.unpacked.clear()
    preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
    assert [e.code for e in preview.errors] == ["xml_dtd"]
    assert spy.unpacked[name] <= 2 * 64 * 1024
    assert spy.opened_by_openpyxl == 0


def test_a_part_no_relationship_names_is_checked_too(template, spy):
    proposal, _staff = ready_proposal()
    for make, code in [
        (lambda: with_doctype(b"<x/>", INTERNAL), "xml_dtd"),
        (lambda: reencoded(b"<x/>", "utf-16-le", bom=b"\xff\xfe"), "xml_dtd"),
        (lambda: padded(b"<x/>", limits.OTHER.bytes + 1), "part_too_big"),
        (lambda: with_elements(b"<x></x>", limits.OTHER.markup + 1), "too_much_markup"),
    ]:
        content = rezip(template, add={"xl/extra/anything.bin": make()})
        preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
        assert [e.code for e in preview.errors] == [code]
    assert spy.opened_by_openpyxl == 0


def test_the_limits_fit_each_part_at_its_size(template):
    """A part exactly at its size limit passes; one byte more does not (the sheet, the shared
    strings and the styles stand for the three kinds of part)."""
    for name in ("xl/worksheets/sheet2.xml", "xl/sharedStrings.xml", "xl/styles.xml"):
        limit = expected_limit(name).bytes
        content = rezip(template, replace={name: padded(parts_of(template)[name], limit)})
        check_upload_container(io.BytesIO(content), "b.xlsx", len(content))


# --------------------------------------------------------------------------- the archive


def _types_with(template: bytes, extra: str) -> bytes:
    return parts_of(template)["[Content_Types].xml"].replace(b"</Types>", extra.encode() + b"</Types>")


def _rels_with(template: bytes, extra: str, rels: str = "xl/_rels/workbook.xml.rels") -> bytes:
    return parts_of(template)[rels].replace(b"</Relationships>", extra.encode() + b"</Relationships>")


def _duplicate(template: bytes, name: str, second: str) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        with zipfile.ZipFile(io.BytesIO(template)) as source, zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                target.writestr(item.filename, source.read(item.filename))
            target.writestr(second, with_doctype(source.read(name), INTERNAL))
    return out.getvalue()


def _huge(part: str, element: bytes, megabytes: int, wrapper: tuple[bytes, bytes]) -> bytes:
    """A part of `megabytes` MB made of one small element repeated, packed tight (the shape of
    the files the permission probe sent: 117 KB and 144 KB uploads)."""
    count = megabytes * 1024 * 1024 // len(element)
    return wrapper[0] + element * count + wrapper[1]


SST = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">', b"</sst>")
STYLES = (
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>',
    b"</cellXfs></styleSheet>",
)

ARCHIVES = [
    (
        "47 MB shared strings",
        lambda t: rezip(t, replace={"xl/sharedStrings.xml": _huge("s", b"<si><t>a</t></si>", 47, SST)}),
        "zip_bomb",
    ),
    (
        "47 MB styles",
        lambda t: rezip(
            t, replace={"xl/styles.xml": _huge("s", b'<xf numFmtId="0" fontId="0"/>', 47, STYLES)}
        ),
        "zip_bomb",
    ),
    (
        "5 MB of tiny shared strings",
        lambda t: rezip(t, replace={"xl/sharedStrings.xml": _huge("s", b"<si><t>a</t></si>", 5, SST)}),
        "zip_bomb",
    ),
    (
        "shared strings of 120,000 tiny strings",
        lambda t: rezip(t, replace={"xl/sharedStrings.xml": SST[0] + b"<si/>" * 120_000 + SST[1]}),
        "too_much_markup",
    ),
    (
        "a part packed 1,000 to 1",
        lambda t: rezip(t, add={"xl/media/image1.png": bytes(2 * 1024 * 1024)}),
        "zip_bomb",
    ),
    (
        "the same part twice",
        lambda t: _duplicate(t, "xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
        "duplicate_parts",
    ),
    (
        "one part in two cases",
        lambda t: _duplicate(t, "xl/worksheets/sheet1.xml", "XL/Worksheets/Sheet1.xml"),
        "duplicate_parts",
    ),
    ("a part named outside", lambda t: rezip(t, add={"../../etc/cron.d/ccop": b"x"}), "unsafe_names"),
    ("a part with a backslash", lambda t: rezip(t, add={"xl\\..\\..\\evil.xml": b"<x/>"}), "unsafe_names"),
    (
        "a relationship pointing outside",
        lambda t: rezip(
            t,
            replace={
                "xl/_rels/workbook.xml.rels": _rels_with(
                    t, f'<Relationship Id="rId99" Type="{WORKSHEET_REL}" Target="../../../etc/passwd"/>'
                )
            },
        ),
        "outside_reference",
    ),
    (
        "an OLE link to another file",
        lambda t: rezip(
            t,
            replace={
                "xl/_rels/workbook.xml.rels": _rels_with(
                    t,
                    '<Relationship Id="rId98" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    'relationships/oleObject" Target="file:///C:/secret.xlsx" TargetMode="External"/>',
                )
            },
        ),
        "external_link",
    ),
    (
        "external workbook links",
        lambda t: rezip(t, add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}),
        "external_link",
    ),
    ("data connections", lambda t: rezip(t, add={"xl/connections.xml": b"<connections/>"}), "external_link"),
    ("an embedded file", lambda t: rezip(t, add={"xl/embeddings/oleObject1.bin": b"data"}), "embedded_file"),
    ("ActiveX controls", lambda t: rezip(t, add={"xl/activeX/activeX1.xml": b"<ax/>"}), "activex"),
    ("a macro sheet", lambda t: rezip(t, add={"xl/macrosheets/sheet1.xml": b"<xm/>"}), "macros"),
    (
        "macros declared by content type only",
        lambda t: rezip(
            t,
            replace={
                "[Content_Types].xml": _types_with(
                    t, '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                )
            },
            add={"xl/code.bin": b"data"},
        ),
        "macros",
    ),
]


@pytest.mark.parametrize(("case", "build", "code"), ARCHIVES, ids=[a[0] for a in ARCHIVES])
def test_hostile_archives_are_refused_before_openpyxl(template, spy, case, build, code):
    proposal, _staff = ready_proposal()
    content = build(template)
    assert len(content) < limits.MAX_UPLOAD_BYTES
    spy.unpacked.clear()
    preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
    assert [e.code for e in preview.errors] == [code], [str(e) for e in preview.errors]
    assert spy.opened_by_openpyxl == 0
    if code == "zip_bomb":
        assert sum(spy.unpacked.values()) < 64 * 1024, spy.unpacked  # decided on declared sizes


def test_a_hyperlink_to_a_web_page_is_accepted(template):
    link = (
        '<Relationship Id="rId97" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/hyperlink" Target="https://example.org/quote.pdf" TargetMode="External"/>'
    )
    rels = (
        "xl/worksheets/_rels/sheet1.xml.rels",
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{link}</Relationships>',
    )
    content = rezip(template, add={rels[0]: rels[1].encode()})
    check_upload_container(io.BytesIO(content), "b.xlsx", len(content))


def test_a_sheet_declaring_every_cell_is_read_no_wider_than_the_limit(monkeypatch):
    """`<dimension ref="A1:XFD1048576">` would have openpyxl make 16,384 cells of every row."""
    proposal, _staff = ready_proposal()
    base = xlsx([GOOD] * 50)
    sheet = parts_of(base)["xl/worksheets/sheet1.xml"]
    sheet = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', sheet)
    widths = []
    original = RowReader.read_headers

    def read_headers(self, cells):
        widths.append(len(cells))
        return original(self, cells)

    monkeypatch.setattr(RowReader, "read_headers", read_headers)
    preview = spreadsheets.read_budget_upload(
        upload(rezip(base, replace={"xl/worksheets/sheet1.xml": sheet})), proposal=proposal
    )
    assert preview.is_valid and len(preview.rows) == 50
    assert widths == [reader.MAX_COLUMNS]


# --------------------------------------------------------------------------- the page


def expected_message(content: bytes, proposal) -> str:
    """The reader's one message for the file, with its spaces as the page shows them."""
    preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
    (error,) = preview.errors
    return " ".join(error.message.split())


def post(client, proposal, content: bytes):
    return client.post(
        reverse("proposals:proposal-budget-import", args=[proposal.pk]), {"file": upload(content)}
    )


@pytest.mark.parametrize(("case", "make", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_the_import_page_refuses_every_hostile_part_with_the_budget_unchanged(
    client, template, spy, case, make, code
):
    proposal, staff = ready_proposal()
    client.force_login(staff[0])
    before = state(proposal)
    for name in parts_of(template):
        content, _size = hostile_workbook(template, name, make)
        response = post(client, proposal, content)
        assert response.status_code == 200, name
        text = html.unescape(" ".join(response.content.decode().split()))
        assert "Nothing was saved" in text, name
        assert expected_message(content, proposal) in text, name
        assert 'name="token"' not in text
        assert f"budget_import:{proposal.pk}" not in client.session
    assert state(proposal) == before
    assert spy.opened_by_openpyxl == 0


@pytest.mark.parametrize(("case", "build", "code"), ARCHIVES, ids=[a[0] for a in ARCHIVES])
def test_the_import_page_refuses_hostile_archives_with_the_budget_unchanged(
    client, template, spy, case, build, code
):
    proposal, staff = ready_proposal()
    client.force_login(staff[0])
    before = state(proposal)
    content = build(template)
    response = post(client, proposal, content)
    assert response.status_code == 200
    text = html.unescape(" ".join(response.content.decode().split()))
    assert "Nothing was saved" in text
    assert expected_message(content, proposal) in text
    assert state(proposal) == before
    assert spy.opened_by_openpyxl == 0


# --------------------------------------------------------------------------- the real big budget


@pytest.mark.parametrize("form", ["as the template writes it", "as Excel saves it"])
def test_the_largest_real_budget_is_read_and_imported(client, form):
    """2,000 lines with 250-character Khmer descriptions and 20 activities with long Khmer
    titles: within every limit, previewed and saved."""
    proposal, staff = ready_proposal()
    titles = big_activity_titles()
    for title in titles:
        services.activity_add(proposal=proposal, acting_user=staff[0], title=title)
    content = big_budget(titles)
    if form == "as Excel saves it":
        content = as_excel_saves_it(content)
    client.force_login(staff[0])
    response = post(client, proposal, content)
    assert response.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)
    response = client.post(
        reverse("proposals:proposal-budget-import", args=[proposal.pk]), {"token": token, "mode": "replace"}
    )
    assert response.status_code == 302
    assert proposal.budget_lines.count() == spreadsheets.MAX_ROWS
    line = proposal.budget_lines.order_by("order", "pk").first()
    assert line.description.startswith("1 ") and len(line.description) == 250
