"""Importing the budget template: every kind of broken file shows its error in plain words (row
and column where there is one) and leaves the database as it was; a valid file is previewed,
saved only on confirmation, in one transaction, replacing or appending, recorded in the history;
frozen proposals refuse; the template round-trips to the cent, Khmer included."""

from __future__ import annotations

import datetime
import html
import io
import os
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from ccop.errors import RuleViolation
from proposals import services, spreadsheets
from proposals.models import BudgetLine, PlannedActivity, Proposal
from proposals.selectors import budget_summary
from tests.factories import FacilitatorFactory, StaffFactory, ready_proposal, under_review

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_budget_io")]

HEAD = ["Category", "Description", "Unit", "Quantity", "Unit cost", "Currency", "Activity"]
ACTIVITY = "Big performance day"  # ready_proposal's activity
GOOD = ["Meals and refreshments", "Lunch for participants", "person", 40, 3.5, "EUR", ACTIVITY]


# --------------------------------------------------------------------------- files


def xlsx(rows, headers=HEAD, sheet="Budget", text_cells=()) -> bytes:
    """A workbook as Excel would save it; `text_cells` ("B4") hold text typed with a leading
    quote (or in a cell formatted as text), so "=..." there is text, not a formula."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if headers:
        ws.append(headers)
    for row in rows:
        ws.append(row)
    for coordinate in text_cells:
        ws[coordinate].data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rezip(content: bytes, add: dict[str, bytes] | None = None, replace=None, stored=False) -> bytes:
    """The workbook `content` with parts added or replaced."""
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", method) as target:
        for item in source.infolist():
            data = (replace or {}).get(item.filename, source.read(item.filename))
            target.writestr(item.filename, data)
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def rows_of(count: int) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Budget")
    ws.append(HEAD)
    for i in range(count):
        ws.append(["meals", f"Lunch {i}", "person", 1, 3, "EUR", None])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def many_rows() -> bytes:
    """2,500 budget lines (the limit is 2,000), written once for the module."""
    return rows_of(2_500)


@pytest.fixture(scope="module")
def far_too_many_rows() -> bytes:
    """20,000 budget lines: refused on the sheet's size before it is read."""
    return rows_of(20_000)


@pytest.fixture(scope="module")
def ten_megabytes() -> bytes:
    """A valid workbook of 10 MB (an incompressible picture-like part inside)."""
    return rezip(xlsx([GOOD]), add={"xl/media/image1.bin": os.urandom(10 * 1024 * 1024)}, stored=True)


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A 200 KB workbook that unpacks to more than 60 MB."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx([GOOD]))) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        with target.open("xl/media/zeros.bin", "w") as part:
            chunk = bytes(1024 * 1024)
            for _ in range(60):
                part.write(chunk)
    return out.getvalue()


def upload(content: bytes, name: str = "budget.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=spreadsheets.XLSX_CONTENT_TYPE)


# Each broken file: (id, how to build it, file name, error code, words the person reads, row, column)
BROKEN = [
    (
        "unknown category",
        lambda f: xlsx([["Snacks", *GOOD[1:]]]),
        "budget.xlsx",
        "unknown_category",
        "“Snacks” is not a category",
        2,
        "Category",
    ),
    (
        "negative quantity",
        lambda f: xlsx([[*GOOD[:3], -2, *GOOD[4:]]]),
        "budget.xlsx",
        "quantity_not_positive",
        "must be more than zero",
        2,
        "Quantity",
    ),
    (
        "words for a quantity",
        lambda f: xlsx([[*GOOD[:3], "two", *GOOD[4:]]]),
        "budget.xlsx",
        "not_a_number",
        "“two” is not a number",
        2,
        "Quantity",
    ),
    (
        "unit cost in tenths of cents",
        lambda f: xlsx([[*GOOD[:4], 12.345, *GOOD[5:]]]),
        "budget.xlsx",
        "too_many_decimals",
        "12.345 has more than 2 decimals",
        2,
        "Unit cost",
    ),
    (
        "unknown activity",
        lambda f: xlsx([[*GOOD[:6], "Dance night"]]),
        "budget.xlsx",
        "unknown_activity",
        "“Dance night” is not one of this proposal's planned activities",
        2,
        "Activity",
    ),
    (
        "empty description",
        lambda f: xlsx([[GOOD[0], None, *GOOD[2:]]]),
        "budget.xlsx",
        "description_missing",
        "the description is empty",
        2,
        "Description",
    ),
    (
        "currency the fund refuses",
        lambda f: xlsx([[*GOOD[:5], "THB", GOOD[6]]]),
        "budget.xlsx",
        "currency_not_accepted",
        "the fund does not accept THB; use one of EUR, USD, KHR",
        2,
        "Currency",
    ),
    (
        "formula for a value",
        lambda f: xlsx([[*GOOD[:4], "=D2*2", *GOOD[5:]]]),
        "budget.xlsx",
        "formula",
        "a formula (=D2*2) where a value is expected",
        2,
        "Unit cost",
    ),
    (
        "2,500 rows",
        lambda f: f["many_rows"],
        "budget.xlsx",
        "too_many_rows",
        "more than 2,000 budget lines; the limit is 2,000",
        None,
        None,
    ),
    (
        "20,000 rows",
        lambda f: f["far_too_many_rows"],
        "budget.xlsx",
        "too_much_markup",
        "of the file holds more than 300,000 XML elements and attributes",
        None,
        None,
    ),
    (
        "CSV renamed .xlsx",
        lambda f: b"Category,Description,Unit\nmeals,Lunch,person\n",
        "budget.xlsx",
        "csv_not_xlsx",
        "This file is plain text (CSV), not an Excel workbook",
        None,
        None,
    ),
    (
        "10 MB",
        lambda f: f["ten_megabytes"],
        "budget.xlsx",
        "too_big",
        "The file is 10.0 MB; the limit is 5 MB",
        None,
        None,
    ),
    (
        "macros by name",
        lambda f: xlsx([GOOD]),
        "budget.xlsm",
        "macros",
        "Workbooks with macros (.xlsm) are not accepted",
        None,
        None,
    ),
    (
        "macros inside",
        lambda f: rezip(xlsx([GOOD]), add={"xl/vbaProject.bin": b"\x00" * 64}),
        "budget.xlsx",
        "macros",
        "This workbook contains macros",
        None,
        None,
    ),
    (
        "zip bomb",
        lambda f: f["zip_bomb"],
        "budget.xlsx",
        "zip_bomb",
        "unpacks to far more data than any budget",
        None,
        None,
    ),
    (
        "XML with a DTD",
        lambda f: rezip(
            xlsx([GOOD]),
            replace={"xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x/>'},
        ),
        "budget.xlsx",
        "xml_dtd",
        "XML declarations that Excel never writes",
        None,
        None,
    ),
    (
        "old .xls",
        lambda f: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
        "budget.xlsx",
        "old_or_encrypted",
        "old Excel 97–2003 file",
        None,
        None,
    ),
    ("a PDF", lambda f: b"%PDF-1.4\n", "budget.pdf", "not_xlsx", "whose name ends in .xlsx", None, None),
    (
        "damaged zip",
        lambda f: xlsx([GOOD])[:300],
        "budget.xlsx",
        "damaged",
        "The file is damaged",
        None,
        None,
    ),
    ("ODS renamed", lambda f: _ods(), "budget.xlsx", "ods", "OpenDocument spreadsheet", None, None),
    (
        "missing columns",
        lambda f: xlsx([GOOD[:5]], headers=HEAD[:5]),
        "budget.xlsx",
        "missing_columns",
        "The columns “Currency”, “Activity” are missing",
        1,
        None,
    ),
    (
        "no lines",
        lambda f: xlsx([]),
        "budget.xlsx",
        "empty",
        "The “Budget” sheet has no budget lines",
        None,
        None,
    ),
]


def _ods() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


@pytest.fixture
def files(many_rows, far_too_many_rows, ten_megabytes, zip_bomb):
    return {
        "many_rows": many_rows,
        "far_too_many_rows": far_too_many_rows,
        "ten_megabytes": ten_megabytes,
        "zip_bomb": zip_bomb,
    }


@pytest.fixture
def draft():
    proposal, staff = ready_proposal()
    return proposal, staff


def state(proposal: Proposal):
    """What an import could change: the lines, their history, the revision."""
    proposal.refresh_from_db()
    lines = list(
        BudgetLine.objects.filter(proposal=proposal)
        .order_by("order", "pk")
        .values_list(
            "pk", "category", "description", "unit", "quantity", "unit_cost", "currency", "activity_id"
        )
    )
    return lines, BudgetLine.history.filter(proposal_id=proposal.pk).count(), proposal.revision


def page(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def import_url(proposal) -> str:
    return reverse("proposals:proposal-budget-import", args=[proposal.pk])


def post_file(client, proposal, content: bytes, name: str = "budget.xlsx"):
    return client.post(import_url(proposal), {"file": upload(content, name)})


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


# --------------------------------------------------------------------------- the reader


@pytest.mark.parametrize(
    ("case", "build", "name", "code", "words", "row", "column"), BROKEN, ids=[c[0] for c in BROKEN]
)
def test_reader_refuses_each_broken_file_in_plain_words(
    draft, files, case, build, name, code, words, row, column
):
    proposal, _staff = draft
    preview = spreadsheets.read_budget_upload(upload(build(files), name), proposal=proposal)
    assert not preview.is_valid
    assert [e.code for e in preview.errors] == [code]
    error = preview.errors[0]
    assert words in error.message
    assert (error.row, error.column) == (row, column)


def test_reader_reports_every_error_by_row_and_column(draft):
    proposal, _staff = draft
    content = xlsx(
        [
            GOOD,
            ["Snacks", "", "person", -1, 2.999, "THB", "Dance night"],
            [],  # an empty row is skipped, the numbering still follows the sheet
            ["travel", "Bus", "trip", "1,5", "ten", "usd", None],
            ["venue", "Hall", "day", 1, "=E2", "EUR", None],
        ]
    )
    preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
    assert [(e.row, e.column, e.code) for e in preview.errors] == [
        (3, "Category", "unknown_category"),
        (3, "Description", "description_missing"),
        (3, "Quantity", "quantity_not_positive"),
        (3, "Unit cost", "too_many_decimals"),
        (3, "Currency", "currency_not_accepted"),
        (3, "Activity", "unknown_activity"),
        (5, "Quantity", "not_a_number"),
        (5, "Unit cost", "not_a_number"),
        (6, "Unit cost", "formula"),
    ]
    assert (
        str(preview.errors[-1])
        == "Row 6, Unit cost: a formula (=E2) where a value is expected; type the value itself."
    )
    assert [r["row"] for r in preview.rows] == [2]  # row 5's currency "usd" alone would be fine
    table = preview.table()
    assert [(r["row"], r["ok"]) for r in table] == [(2, True), (3, False), (5, False), (6, False)]
    assert table[1]["cells"][0] == {"value": "Snacks", "errors": [preview.errors[0].message]}


def test_reader_accepts_codes_labels_text_numbers_and_ignores_formulas_in_other_columns(draft):
    proposal, _staff = draft
    content = xlsx(
        [
            ["MEALS", " Lunch ", "person", "40", "3.50", "eur", ACTIVITY.upper(), "=D2*E2"],
            ["Venue and Equipment", "Hall", "day", 1.5, 0.1, "USD", None, "=D3*E3"],
        ],
        headers=[*HEAD, "Line total (my own)"],
    )
    preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
    assert preview.is_valid, [str(e) for e in preview.errors]
    activity = proposal.activities.get()
    assert preview.rows == [
        {
            "row": 2,
            "category": "meals",
            "description": "Lunch",
            "unit": "person",
            "quantity": "40",
            "unit_cost": "3.50",
            "currency": "EUR",
            "activity": activity.pk,
            "activity_title": ACTIVITY,
            "category_label": "Meals and refreshments",
            "total": "140.00",
        },
        {
            "row": 3,
            "category": "venue",
            "description": "Hall",
            "unit": "day",
            "quantity": "1.5",
            "unit_cost": "0.1",
            "currency": "USD",
            "activity": None,
            "activity_title": "",
            "category_label": "Venue and equipment",
            "total": "0.15",
        },
    ]
    assert preview.warnings == [
        "No exchange rate is recorded yet for USD; record it on the proposal before submitting."
    ]


def test_reader_refuses_a_date_or_an_error_value_where_a_number_goes(draft):
    proposal, _staff = draft
    content = xlsx([[*GOOD[:3], datetime.date(2024, 3, 1), *GOOD[4:]]])
    content = rezip(content, replace={"xl/worksheets/sheet1.xml": _with_error_cell(content)})
    preview = spreadsheets.read_budget_upload(upload(content), proposal=proposal)
    assert [(e.row, e.column, e.code) for e in preview.errors] == [
        (2, "Quantity", "not_a_number"),
        (2, "Unit cost", "error_value"),
    ]
    assert "“2024-03-01” is not a number" in preview.errors[0].message


def _with_error_cell(content: bytes) -> bytes:
    """The sheet with the unit cost (E2) turned into Excel's #DIV/0! error value."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    return re.sub(r'<c r="E2"[^>]*>.*?</c>', '<c r="E2" t="e"><v>#DIV/0!</v></c>', xml).encode()


def test_reader_tells_which_activity_title_is_ambiguous(draft):
    proposal, staff = draft
    services.activity_add(proposal=proposal, acting_user=staff[0], title=f" {ACTIVITY.lower()} ")
    preview = spreadsheets.read_budget_upload(upload(xlsx([GOOD])), proposal=proposal)
    assert [e.code for e in preview.errors] == ["ambiguous_activity"]


# --------------------------------------------------------------------------- the page: broken files


@pytest.mark.parametrize(
    ("case", "build", "name", "code", "words", "row", "column"), BROKEN, ids=[c[0] for c in BROKEN]
)
def test_page_shows_the_error_and_saves_nothing(
    client, draft, files, case, build, name, code, words, row, column
):
    proposal, staff = draft
    before = state(proposal)
    client.force_login(staff[0])

    response = post_file(client, proposal, build(files), name)

    assert response.status_code == 200
    text = page(response)
    assert "Nothing was saved" in text
    assert words in text
    if row and column:
        assert f'<th scope="row">{row}</th>' in response.content.decode()
    assert 'name="token"' not in text  # no way to confirm
    assert state(proposal) == before
    assert f"budget_import:{proposal.pk}" not in client.session


def test_page_shows_every_row_with_its_errors(client, draft):
    proposal, staff = draft
    client.force_login(staff[0])
    response = post_file(client, proposal, xlsx([GOOD, ["Snacks", "Juice", "bottle", 2, 1, "EUR", None]]))
    text = page(response)
    assert "the file has 1 problem" in text
    assert "Lunch for participants" in text and "Juice" in text  # both rows shown
    assert "“Snacks” is not a category" in text


# --------------------------------------------------------------------------- the page: valid files


def test_preview_then_confirm_replaces_the_budget_in_one_revision_with_history(client, draft):
    proposal, staff = draft
    author = staff[0]
    old = BudgetLine.objects.get(proposal=proposal)
    before = state(proposal)
    client.force_login(author)
    rows = [
        GOOD,
        ["travel", "ការធ្វើដំណើរទៅបាត់ដំបង", "ដំណើរ", 2, 25, "USD", None],
        ["venue", "=SUM(A1:A9)", "day", 1, 0, "EUR", ACTIVITY],
    ]

    preview = post_file(client, proposal, xlsx(rows, text_cells=["B4"]), "ថវិកា.xlsx")

    text = page(preview)
    assert "3 budget lines are ready to import. Nothing is saved until you confirm." in text
    assert "ការធ្វើដំណើរទៅបាត់ដំបង" in text
    assert "Total: EUR 140.00 + USD 50.00" in text
    assert "No exchange rate is recorded yet for USD" in text
    assert state(proposal) == before  # nothing saved by the preview

    response = client.post(import_url(proposal), {"token": token_of(preview), "mode": "replace"})

    assert response.status_code == 302
    assert response.url == reverse("proposals:proposal-detail", args=[proposal.pk])
    lines = list(BudgetLine.objects.filter(proposal=proposal).order_by("order"))
    assert [
        (line.description, line.unit, line.quantity, line.unit_cost, line.currency) for line in lines
    ] == [
        ("Lunch for participants", "person", Decimal("40.00"), Decimal("3.50"), "EUR"),
        ("ការធ្វើដំណើរទៅបាត់ដំបង", "ដំណើរ", Decimal("2.00"), Decimal("25.00"), "USD"),
        ("=SUM(A1:A9)", "day", Decimal("1.00"), Decimal("0.00"), "EUR"),
    ]
    assert [line.order for line in lines] == [0, 1, 2]
    assert lines[0].activity.title == ACTIVITY and lines[1].activity is None
    proposal.refresh_from_db()
    assert proposal.revision == before[2] + 1
    created = BudgetLine.history.filter(
        proposal_id=proposal.pk, history_type="+", id__in=[x.pk for x in lines]
    )
    assert created.count() == 3
    assert {(h.history_user_id, h.history_change_reason) for h in created} == {
        (author.pk, "budget import (replace) ថវិកា.xlsx")
    }
    deleted = BudgetLine.history.get(id=old.pk, history_type="-")
    assert deleted.history_user_id == author.pk
    assert f"budget_import:{proposal.pk}" not in client.session
    followed = client.get(response.url)
    assert "3 budget lines imported; they replace the previous budget." in page(followed)


def test_append_adds_after_the_current_lines(client, draft):
    proposal, staff = draft
    client.force_login(FacilitatorFactory(country_programme=proposal.cop.country_programme))
    preview = post_file(client, proposal, xlsx([GOOD, GOOD]))
    client.post(import_url(proposal), {"token": token_of(preview), "mode": "append"})
    lines = list(BudgetLine.objects.filter(proposal=proposal).order_by("order"))
    assert [line.description for line in lines] == [
        "Venue hire",
        "Lunch for participants",
        "Lunch for participants",
    ]
    assert lines[1].order > lines[0].order and lines[2].order > lines[1].order


def test_confirm_needs_a_choice_of_replace_or_append(client, draft):
    proposal, staff = draft
    before = state(proposal)
    client.force_login(staff[0])
    preview = post_file(client, proposal, xlsx([GOOD]))
    response = client.post(import_url(proposal), {"token": token_of(preview)})
    assert "Choose whether to replace the budget or add to it." in page(response)
    assert "Lunch for participants" in page(response)  # the preview is still shown
    assert state(proposal) == before
    client.post(import_url(proposal), {"token": token_of(preview), "mode": "append"})
    assert BudgetLine.objects.filter(proposal=proposal).count() == 2


def test_a_forged_or_replayed_confirmation_saves_nothing(client, draft):
    proposal, staff = draft
    client.force_login(staff[0])
    preview = post_file(client, proposal, xlsx([GOOD]))
    before = state(proposal)
    forged = client.post(
        import_url(proposal),
        {"token": "forged", "mode": "replace", "rows": '[{"description": "Injected"}]'},
        follow=True,
    )
    assert "This import has expired or was already saved." in page(forged)
    assert state(proposal) == before
    token = token_of(preview)
    assert client.post(import_url(proposal), {"token": token, "mode": "replace"}).status_code == 302
    after = state(proposal)
    replay = client.post(import_url(proposal), {"token": token, "mode": "append"}, follow=True)
    assert "This import has expired or was already saved." in page(replay)
    assert state(proposal) == after


def test_another_persons_session_cannot_confirm(client, draft):
    proposal, staff = draft
    client.force_login(staff[0])
    preview = post_file(client, proposal, xlsx([GOOD]))
    before = state(proposal)
    client.force_login(staff[1])  # a new session: the stored rows are not in it
    response = client.post(import_url(proposal), {"token": token_of(preview), "mode": "replace"}, follow=True)
    assert "This import has expired" in page(response)
    assert state(proposal) == before


def test_a_change_between_preview_and_confirm_makes_the_import_stale(client, draft):
    proposal, staff = draft
    client.force_login(staff[0])
    preview = post_file(client, proposal, xlsx([GOOD]))
    services.budget_line_add(
        proposal=proposal,
        acting_user=staff[1],
        category="other",
        description="Added meanwhile",
        unit="piece",
        quantity=Decimal("1"),
        unit_cost=Decimal("5"),
        currency="EUR",
    )
    before = state(proposal)
    response = client.post(import_url(proposal), {"token": token_of(preview), "mode": "replace"}, follow=True)
    assert "Someone else saved this proposal after you opened it." in page(response)
    assert state(proposal) == before


# --------------------------------------------------------------------------- who may import


def test_frozen_proposal_refuses_the_import_on_the_page_and_in_the_service(client):
    proposal, staff, _member = under_review()
    before = state(proposal)
    client.force_login(staff[0])
    response = client.get(import_url(proposal), follow=True)
    assert "This proposal is under review and can no longer be changed." in page(response)
    response = post_file(client, proposal, xlsx([GOOD]))
    assert response.status_code == 302
    with pytest.raises(RuleViolation) as refused:
        services.budget_import_apply(
            proposal=proposal, acting_user=staff[0], rows=[_service_row()], mode="append"
        )
    assert refused.value.code == "frozen"
    assert state(proposal) == before


def test_who_may_open_the_import_page(client, draft):
    proposal, staff = draft
    url = import_url(proposal)
    assert client.get(url).status_code == 302  # to log in
    client.force_login(StaffFactory())  # another organisation
    assert client.get(url).status_code == 404
    client.force_login(staff[0])
    response = client.get(url)
    assert response.status_code == 200
    text = page(response)
    assert "Import the budget from a spreadsheet" in text
    assert reverse("proposals:proposal-budget-template", args=[proposal.pk]) in text
    assert reverse("proposals:budget-template") in text


# --------------------------------------------------------------------------- the service


def _service_row(**fields):
    return {
        "category": "meals",
        "description": "Lunch",
        "unit": "person",
        "quantity": Decimal("10"),
        "unit_cost": Decimal("3.25"),
        "currency": "EUR",
        "activity": None,
        **fields,
    }


def test_service_refuses_every_bad_line_and_saves_nothing(draft):
    proposal, staff = draft
    other, _ = ready_proposal()
    before = state(proposal)
    with pytest.raises(services.PlanInvalid) as refused:
        services.budget_import_apply(
            proposal=proposal,
            acting_user=staff[0],
            rows=[
                _service_row(),
                _service_row(currency="THB"),
                _service_row(activity=other.activities.get().pk),
                _service_row(quantity=Decimal("-1")),
            ],
            mode="replace",
        )
    assert set(refused.value.errors) == {("budget_lines", 1), ("budget_lines", 2), ("budget_lines", 3)}
    assert "Budget line 2: Currency: The fund does not accept THB" in " ".join(refused.value.messages)
    assert state(proposal) == before


def test_service_limits_and_modes(draft):
    proposal, staff = draft
    with pytest.raises(RuleViolation) as too_many:
        services.budget_import_apply(
            proposal=proposal, acting_user=staff[0], rows=[_service_row()] * 2001, mode="append"
        )
    assert too_many.value.code == "too_many_lines"
    with pytest.raises(ValueError, match="mode"):
        services.budget_import_apply(
            proposal=proposal, acting_user=staff[0], rows=[_service_row()], mode="merge"
        )
    with pytest.raises(RuleViolation) as outsider:
        services.budget_import_apply(
            proposal=proposal, acting_user=StaffFactory(), rows=[_service_row()], mode="append"
        )
    assert outsider.value.code == "not_allowed"


def test_import_voids_the_endorsements_like_any_edit(draft):
    proposal, staff = draft
    assert len(services.valid_endorsement_organisation_ids(proposal)) == 2
    services.budget_import_apply(
        proposal=proposal, acting_user=staff[0], rows=[_service_row()], mode="append"
    )
    assert services.valid_endorsement_organisation_ids(proposal) == set()


# --------------------------------------------------------------------------- round trip


def test_the_template_round_trips_to_the_cent_with_khmer(client, draft):
    proposal, staff = draft
    author = staff[0]
    services.exchange_rate_set(proposal=proposal, acting_user=author, currency="USD", rate=Decimal("0.91"))
    services.exchange_rate_set(
        proposal=proposal, acting_user=author, currency="KHR", rate=Decimal("0.000225")
    )
    khmer_activity = services.activity_add(proposal=proposal, acting_user=author, title="សិក្ខាសាលាស្ដីពីសិទ្ធិ")
    for category, description, unit, quantity, cost, currency, activity in [
        ("personnel", "អ្នកសម្របសម្រួល (ពីរនាក់)", "ថ្ងៃ", "2.5", "0.01", "USD", khmer_activity),
        ("travel", "=1+1 is what the poster says", "trip", "0.25", "1234567.89", "EUR", None),
        ("meals", "+855 12 345 678 (caterer)", "meal", "120", "13333.33", "KHR", khmer_activity),
        ("communication", "@voice_cambodia posts", "post", "7", "19.99", "USD", None),
        ("other", "-10% discount line", "lot", "1", "0.00", "EUR", None),
    ]:
        services.budget_line_add(
            proposal=proposal,
            acting_user=author,
            category=category,
            description=description,
            unit=unit,
            quantity=Decimal(quantity),
            unit_cost=Decimal(cost),
            currency=currency,
            activity=activity,
        )
    client.force_login(author)
    response = client.get(reverse("proposals:proposal-budget-template", args=[proposal.pk]))
    template = b"".join(response.streaming_content)

    new = services.proposal_create(
        cop=proposal.cop,
        fund=proposal.fund,
        title="Phase II",
        acting_user=author,
        applicants=[s.organisation for s in staff],
    )
    for activity in proposal.activities.order_by("pk"):
        services.activity_add(proposal=new, acting_user=author, title=activity.title)
    for currency, rate in proposal.exchange_rates.values_list("currency", "rate"):
        services.exchange_rate_set(proposal=new, acting_user=author, currency=currency, rate=rate)
    preview = post_file(client, new, template, "proposal-budget-template.xlsx")
    assert "6 budget lines are ready to import" in page(preview), page(preview)[:3000]
    client.post(import_url(new), {"token": token_of(preview), "mode": "replace"})

    def budget(p):
        return [
            (
                line.category,
                line.description,
                line.unit,
                line.quantity,
                line.unit_cost,
                line.currency,
                line.total,
            )
            + (line.activity.title if line.activity else None,)
            for line in BudgetLine.objects.filter(proposal=p)
            .select_related("activity")
            .order_by("order", "pk")
        ]

    assert budget(new) == budget(proposal)
    assert budget_summary(new).total_in_fund_currency == budget_summary(proposal).total_in_fund_currency
    assert PlannedActivity.objects.filter(proposal=new).count() == 2
