"""The budget workbooks (one proposal, a whole fund), the budget template and the admin's list
exports, each read back with openpyxl: values, types, number formats, frozen headers, sized
columns, dates as dates, formula-like text inert; who may download what; a fund's export in a
fixed number of queries."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from proposals import services, spreadsheets
from proposals.models import BudgetLine, Proposal
from tests.admin_helpers import superuser, with_admin_permissions
from tests.factories import (
    CommitteeMemberFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    StaffFactory,
    ready_proposal,
    under_review,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_budget_io")]

FORMULA_LIKE = [
    '=HYPERLINK("http://x.example","Hi")',
    "+1+2",
    "-3+4",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]
AS_READ = [t.replace("\r", "\n") for t in FORMULA_LIKE]  # XML turns a carriage return into a line feed
KHMER = "ការជួលសាលប្រជុំ និងឧបករណ៍បំពងសំឡេង"  # hall and sound system hire


@pytest.fixture
def quick_pdf(monkeypatch):
    """Approval renders the official PDF; these tests need the grant, not the PDF."""
    from proposals import pdf

    monkeypatch.setattr(pdf, "render_proposal_pdf", lambda **_kw: b"%PDF-1.4\n%%EOF\n")


def add_line(proposal, user, **fields):
    defaults = {
        "category": BudgetLine.Category.MATERIALS,
        "description": "Posters",
        "unit": "piece",
        "quantity": Decimal("1"),
        "unit_cost": Decimal("1.00"),
        "currency": "EUR",
    }
    return services.budget_line_add(proposal=proposal, acting_user=user, **{**defaults, **fields})


@pytest.fixture
def budget():
    """A draft with an EUR and a USD line (rate recorded), a Khmer line, formula-like text."""
    proposal, staff = ready_proposal()  # one EUR 1,000.00 venue line on "Big performance day"
    author = staff[0]
    activity = proposal.activities.get()
    services.exchange_rate_set(proposal=proposal, acting_user=author, currency="USD", rate=Decimal("0.92"))
    add_line(
        proposal,
        author,
        activity=activity,
        category=BudgetLine.Category.TRAVEL,
        description="Bus to Battambang",
        unit="trip",
        quantity=Decimal("3"),
        unit_cost=Decimal("150.50"),
        currency="USD",
    )
    add_line(
        proposal, author, description=KHMER, unit="ថ្ងៃ", quantity=Decimal("2.5"), unit_cost=Decimal("40")
    )
    for text in FORMULA_LIKE:
        add_line(proposal, author, description=text, unit=text)
    proposal.refresh_from_db()
    return proposal, staff


def download(client, user, name, *args) -> bytes:
    client.force_login(user)
    response = client.get(reverse(f"proposals:{name}", args=args))
    assert response.status_code == 200, response
    assert response["Content-Type"] == spreadsheets.XLSX_CONTENT_TYPE
    assert response["Cache-Control"] == "private, no-store"
    return b"".join(response.streaming_content)


def open_book(content: bytes, **kwargs):
    return load_workbook(io.BytesIO(content), **kwargs)


def rows_of(ws) -> list[tuple]:
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def cell_in_column(ws, heading: str, row: int):
    headings = [c.value for c in ws[1]]
    return ws.cell(row=row, column=headings.index(heading) + 1)


# --------------------------------------------------------------------------- the proposal's workbook


def test_proposal_workbook_has_numbers_formats_dates_and_frozen_headers(client, budget):
    proposal, staff = budget
    book = open_book(download(client, staff[0], "proposal-budget-xlsx", proposal.pk))

    assert book.sheetnames == ["Summary", "Budget lines", "Subtotals"]
    for ws in book.worksheets:
        assert ws.column_dimensions["A"].width > 8
        assert all(c.font.b for c in ws[1] if c.value is not None)

    summary = book["Summary"]
    assert summary.freeze_panes == "A5"
    fund = proposal.fund
    name, currency, ceiling, approved, remaining, requested = (c for c in summary[2][:6])
    assert (name.value, currency.value) == (fund.name, "EUR")
    assert ceiling.value == 50000 and ceiling.data_type == "n"
    assert ceiling.number_format == '#,##0.00 "EUR"'
    assert (approved.value, remaining.value) == (0, 50000)
    usd_in_eur = Decimal("451.50") * Decimal("0.92")  # 415.38
    expected = Decimal("1000.00") + usd_in_eur.quantize(Decimal("0.01")) + Decimal("100.00") + 6
    assert Decimal(str(requested.value)) == expected
    row = list(summary[5])
    assert row[0].value == proposal.pk and isinstance(row[0].value, int)
    assert row[1].value == proposal.title
    assert row[2].value == proposal.cop.name
    assert row[3].value == ", ".join(sorted(a.organisation.acronym for a in proposal.applicants.all()))
    assert row[4].value == "Draft"
    assert row[5].is_date and row[5].value.date() == datetime.date(2024, 1, 1)
    assert row[5].number_format == "yyyy-mm-dd"
    assert row[6].value.date() == datetime.date(2024, 6, 30)
    assert row[7].value is None  # not submitted
    assert Decimal(str(row[8].value)) == expected and row[8].number_format == '#,##0.00 "EUR"'
    assert row[9].value is None  # no grant yet

    lines = book["Budget lines"]
    assert lines.freeze_panes == "A2"
    assert lines.auto_filter.ref == f"A1:K{lines.max_row}"
    assert [c.value for c in lines[1]] == [
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
    assert lines.max_row == 1 + 3 + len(FORMULA_LIKE)
    venue, bus, khmer = (list(r) for r in lines.iter_rows(min_row=2, max_row=4))
    assert [c.value for c in venue] == [
        proposal.pk,
        proposal.title,
        "Big performance day",
        "Venue and equipment",
        "Venue hire",
        "day",
        1,
        1000,
        "EUR",
        1000,
        1000,
    ]
    assert [c.value for c in bus[6:11]] == [3, 150.5, "USD", 451.5, 415.38]
    assert [c.data_type for c in bus[6:11]] == ["n", "n", "s", "n", "n"]
    assert bus[7].number_format == bus[9].number_format == '#,##0.00 "USD"'
    assert bus[10].number_format == '#,##0.00 "EUR"'
    assert (khmer[2].value, khmer[4].value, khmer[5].value) == (None, KHMER, "ថ្ងៃ")
    assert (khmer[6].value, khmer[9].value) == (2.5, 100)

    subtotals = book["Subtotals"]
    assert subtotals.freeze_panes == "A2"
    got = {(r[0], r[3], r[4]): (r[5], r[6], r[7]) for r in rows_of(subtotals)[1:]}
    assert got[("Category", "Travel and transport", "USD")] == (451.5, 415.38, 1)
    assert got[("Category", "Materials and supplies", "EUR")] == (106, 106, 1 + len(FORMULA_LIKE))
    assert got[("Activity", "Big performance day", "EUR")] == (1000, 1000, 1)
    assert got[("Activity", "Big performance day", "USD")] == (451.5, 415.38, 1)
    assert got[("Activity", "Not linked to one activity", "EUR")] == (106, 106, 1 + len(FORMULA_LIKE))
    assert not any(key[0] == "All proposals" for key in got)  # only in a fund's workbook


def test_formula_like_text_is_exported_as_inert_text(client, budget):
    proposal, staff = budget
    content = download(client, staff[0], "proposal-budget-xlsx", proposal.pk)
    lines = open_book(content)["Budget lines"]
    cells = {cell_in_column(lines, "Description", r).value: r for r in range(2, lines.max_row + 1)}
    for text in AS_READ:
        row = cells[text]  # as typed, nothing stripped
        for heading in ("Description", "Unit"):
            cell = cell_in_column(lines, heading, row)
            assert cell.value == text
            assert cell.data_type == "s"  # a string, not "f"
            assert cell.quotePrefix  # Excel's "typed as text" mark: stays text after an edit
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name  # not one formula in the file


def test_a_missing_rate_leaves_the_converted_amounts_empty_and_says_why(client, budget):
    proposal, staff = budget
    add_line(
        proposal,
        staff[0],
        description="Banners",
        quantity=Decimal("2"),
        unit_cost=Decimal("8000"),
        currency="KHR",
    )
    book = open_book(download(client, staff[0], "proposal-budget-xlsx", proposal.pk))
    row = book["Summary"][5]
    assert row[8].value is None
    assert row[10].value == "No exchange rate recorded for KHR."
    khmer_riel = [r for r in book["Budget lines"].iter_rows(min_row=2) if r[8].value == "KHR"]
    assert khmer_riel[0][9].value == 16000 and khmer_riel[0][10].value is None


def test_proposal_workbook_only_for_those_who_may_see_it(client, budget):
    proposal, staff = budget
    url = reverse("proposals:proposal-budget-xlsx", args=[proposal.pk])
    assert client.get(url).status_code == 302  # to log in
    client.force_login(StaffFactory())  # another organisation
    assert client.get(url).status_code == 404
    client.force_login(FacilitatorFactory(country_programme=CountryProgrammeFactory(code="LA")))
    assert client.get(url).status_code == 404
    assert download(
        client,
        FacilitatorFactory(country_programme=proposal.cop.country_programme),
        "proposal-budget-xlsx",
        proposal.pk,
    )


# --------------------------------------------------------------------------- the fund's workbook


def test_fund_workbook_has_every_proposal_and_the_funds_figures(client, budget, quick_pdf):
    proposal, _staff = budget
    approved, _s, member = under_review(fund=proposal.fund, cop=proposal.cop, amount=Decimal("2500.00"))
    services.proposal_approve(proposal=approved, acting_user=member, reasons="Clear and joint.")
    facilitator = FacilitatorFactory(country_programme=proposal.cop.country_programme)

    book = open_book(download(client, facilitator, "fund-budget-xlsx", proposal.fund.pk))

    summary = book["Summary"]
    figures = [c.value for c in summary[2][:5]]
    assert figures == [proposal.fund.name, "EUR", 50000, 2500, 47500]
    rows = {r[0]: r for r in rows_of(summary)[4:]}
    assert set(rows) == {proposal.pk, approved.pk}
    assert rows[approved.pk][4] == "Approved"
    assert rows[approved.pk][7].date() == timezone.localtime(approved.submitted_at).date()
    assert (rows[approved.pk][8], rows[approved.pk][9]) == (2500, 2500)
    approved_row = next(r for r in summary.iter_rows(min_row=5) if r[0].value == approved.pk)
    assert approved_row[9].number_format == '#,##0.00 "EUR"'
    lines = rows_of(book["Budget lines"])[1:]
    assert {r[0] for r in lines} == {proposal.pk, approved.pk}
    fund_wide = [r for r in rows_of(book["Subtotals"]) if r[2] == "All proposals"]
    assert ("Category", None, "All proposals", "Venue and equipment", "EUR", 3500, None, 2) in fund_wide


def test_fund_workbook_only_for_the_programmes_facilitators_and_superusers(client, budget):
    proposal, staff = budget
    url = reverse("proposals:fund-budget-xlsx", args=[proposal.fund.pk])
    assert client.get(url).status_code == 302
    for outsider in (
        staff[0],  # an applicant
        CommitteeMemberFactory(country_programme=proposal.cop.country_programme),
        FacilitatorFactory(country_programme=CountryProgrammeFactory(code="LA")),
    ):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(superuser())
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    assert 'attachment; filename="fund-' in response["Content-Disposition"]


def _fund_with_lines(n: int):
    proposal, staff = ready_proposal()
    other, _ = ready_proposal(fund=proposal.fund, cop=proposal.cop)
    activity = proposal.activities.get()
    BudgetLine.objects.bulk_create(
        BudgetLine(
            proposal=(proposal, other)[i % 2],
            activity=activity if i % 2 == 0 else None,
            category=BudgetLine.Category.MEALS,
            description=f"Lunch {i}",
            unit="person",
            quantity=Decimal("10"),
            unit_cost=Decimal("3.25"),
            currency="EUR",
            order=i + 1,
        )
        for i in range(n)
    )
    return proposal.fund


@pytest.mark.parametrize("lines", [10, 200])
def test_fund_export_takes_the_same_queries_for_10_and_200_lines(lines):
    counts = {}
    for n in (lines, 10):
        fund = _fund_with_lines(n)
        proposals = Proposal.objects.filter(fund=fund)
        with CaptureQueriesContext(connection) as queries:
            spreadsheets.write_budget_workbook(io.BytesIO(), fund=fund, proposals=proposals, fund_wide=True)
        counts[n] = len(queries)
    assert counts[lines] == counts[10] <= 8, counts


def test_fund_export_reads_lines_in_chunks_from_one_query(client, monkeypatch):
    fund = _fund_with_lines(30)
    monkeypatch.setattr(spreadsheets.workbook, "CHUNK_SIZE", 7)
    facilitator = FacilitatorFactory(country_programme=fund.country_programme)
    with CaptureQueriesContext(connection) as queries:
        content = download(client, facilitator, "fund-budget-xlsx", fund.pk)
    line_queries = [q for q in queries.captured_queries if 'FROM "proposals_budgetline"' in q["sql"]]
    assert len(line_queries) == 1
    assert len(list(open_book(content, read_only=True)["Budget lines"].rows)) == 1 + 30 + 2  # + 2 venue lines


# --------------------------------------------------------------------------- the template


def test_blank_template_has_the_columns_lists_and_bilingual_instructions(client):
    content = download(client, StaffFactory(), "budget-template")
    book = open_book(content)
    assert book.sheetnames == ["Budget", "Lists", "Instructions"]
    assert book.active.title == "Budget"
    ws = book["Budget"]
    assert [c.value for c in ws[1]] == [
        "Category",
        "Description",
        "Unit",
        "Quantity",
        "Unit cost",
        "Currency",
        "Activity",
    ]
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 1
    validations = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert validations["A2:A2001"].formula1 == "'Lists'!$A$2:$A$8"
    assert validations["F2:F2001"].formula1 == "'Lists'!$C$2:$C$6"
    assert "G2:G2001" not in validations  # no proposal, no activities to choose from
    lists = book["Lists"]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(row=r, column=1).value for r in range(2, 9)] == [
        label for _c, label in BudgetLine.Category.choices
    ]
    assert [lists.cell(row=r, column=3).value for r in range(2, 7)] == ["EUR", "USD", "KHR", "LAK", "THB"]
    instructions = book["Instructions"]
    text = "\n".join(str(c.value) for row in instructions.iter_rows() for c in row if c.value)
    assert "How to fill in the budget template" in text
    assert "របៀបបំពេញគំរូថវិកា" in text  # Khmer
    assert "២ ០០០" in text  # the limit in Khmer digits
    assert "Venue and equipment (venue)" in text


def test_proposal_template_lists_its_activities_and_currencies_and_holds_its_lines(client, budget):
    proposal, staff = budget
    book = open_book(download(client, staff[0], "proposal-budget-template", proposal.pk))
    ws = book["Budget"]
    validations = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation}
    assert validations["G2:G2001"] == "'Lists'!$D$2:$D$2"
    assert validations["F2:F2001"] == "'Lists'!$C$2:$C$4"  # EUR, USD, KHR: what the fund accepts
    rows = rows_of(ws)[1:]
    assert rows[0] == ("Venue and equipment", "Venue hire", "day", 1, 1000, "EUR", "Big performance day")
    assert rows[1] == (
        "Travel and transport",
        "Bus to Battambang",
        "trip",
        3,
        150.5,
        "USD",
        "Big performance day",
    )
    assert rows[2][1:3] == (KHMER, "ថ្ងៃ")
    assert ws.cell(row=3, column=5).number_format == "#,##0.00"
    formula_rows = [r for r in ws.iter_rows(min_row=5) if r[1].value in AS_READ]
    assert len(formula_rows) == len(FORMULA_LIKE)
    assert all(r[1].data_type == "s" and r[1].quotePrefix for r in formula_rows)


# --------------------------------------------------------------------------- admin list exports


def _export(client, user, model_name, params: str, file_format: int) -> bytes:
    """The admin's Export button carries the list's query string; the export form posts back to
    the same address with the chosen format (0: XLSX, 1: CSV)."""
    client.force_login(user)
    url = reverse(f"export_admin:{model_name}_export") + params
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {"format": str(file_format), "resource": "0"})
    assert response.status_code == 200, response.content[:500]
    return response.content


def test_admin_proposal_export_keeps_the_lists_filters_and_numbers(client, budget, quick_pdf):
    proposal, _staff = budget
    approved, _s, member = under_review(fund=proposal.fund, cop=proposal.cop, amount=Decimal("2500.00"))
    services.proposal_approve(proposal=approved, acting_user=member, reasons="Clear and joint.")
    admin = superuser()

    everything = open_book(_export(client, admin, "proposals_proposal", "", 0)).active
    assert {r[0] for r in rows_of(everything)[1:]} == {proposal.pk, approved.pk}

    ws = open_book(_export(client, admin, "proposals_proposal", "?status__exact=approved", 0)).active
    assert ws.freeze_panes == "A2"
    rows = rows_of(ws)
    assert len(rows) == 2 and rows[1][0] == approved.pk
    row = dict(zip(rows[0], ws[2], strict=True))
    assert row["State"].value == "Approved"
    assert row["Requested"].value == 2500 and row["Requested"].data_type == "n"
    assert row["Requested"].number_format == "#,##0.00"
    assert row["Approved"].value == 2500
    assert row["Starts on"].is_date
    assert row["Submitted at"].is_date and row["Submitted at"].value.tzinfo is None

    searched = open_book(_export(client, admin, "proposals_proposal", f"?q={proposal.cop.name}", 0)).active
    assert {r[0] for r in rows_of(searched)[1:]} == {proposal.pk, approved.pk}


def test_admin_budget_line_export_makes_formulas_inert_in_xlsx_and_csv(client, budget):
    proposal, _staff = budget
    facilitator = with_admin_permissions(FacilitatorFactory(country_programme=proposal.cop.country_programme))

    ws = open_book(_export(client, facilitator, "proposals_budgetline", "?currency__exact=EUR", 0)).active
    rows = rows_of(ws)
    assert rows[0][:3] == ("Proposal no.", "Proposal", "CoP")
    assert {r[10] for r in rows[1:]} == {"EUR"}  # the filter holds
    descriptions = {c.value: c for c in (r[6] for r in ws.iter_rows(min_row=2))}
    for text in AS_READ:
        assert descriptions[text].data_type == "s" and descriptions[text].quotePrefix
    quantity = ws.cell(row=2, column=9)
    assert quantity.data_type == "n"

    content = _export(client, facilitator, "proposals_budgetline", "?currency__exact=EUR", 1).decode(
        "utf-8-sig"
    )
    records = list(csv.reader(io.StringIO(content)))
    texts = {r[6] for r in records[1:]}
    for text in FORMULA_LIKE:
        assert "'" + text in texts
    assert KHMER in texts
    venue = next(r for r in records if r[6] == "Venue hire")
    assert venue[8:12] == ["1.00", "1000.00", "EUR", "1000.00"]


def test_admin_export_is_scoped_to_what_the_person_may_see(client, budget):
    _proposal, _staff = budget
    elsewhere = with_admin_permissions(
        FacilitatorFactory(country_programme=CountryProgrammeFactory(code="LA"))
    )
    ws = open_book(_export(client, elsewhere, "proposals_budgetline", "", 0)).active
    assert ws.max_row == 1  # the header only


def test_admin_fund_and_grant_exports(client, budget, quick_pdf):
    proposal, _staff = budget
    approved, _s, member = under_review(fund=proposal.fund, cop=proposal.cop, amount=Decimal("2500.00"))
    services.proposal_approve(proposal=approved, acting_user=member, reasons="Clear and joint.")
    admin = superuser()

    funds = open_book(_export(client, admin, "grants_fund", "", 0)).active
    row = dict(zip([c.value for c in funds[1]], [c.value for c in funds[2]], strict=True))
    assert (row["Name"], row["Ceiling"], row["Approved total"], row["Remaining"]) == (
        proposal.fund.name,
        50000,
        2500,
        47500,
    )
    assert isinstance(row["Opens on"], datetime.datetime)

    grants = open_book(_export(client, admin, "grants_grant", "", 0)).active
    row = dict(zip([c.value for c in grants[1]], [c.value for c in grants[2]], strict=True))
    assert (row["Proposal no."], row["Approved amount"], row["Currency"]) == (approved.pk, 2500, "EUR")
    assert row["Approved by"] == member.get_full_name()


def test_admin_export_takes_the_same_queries_for_10_and_100_lines(client):
    admin = superuser()
    _fund_with_lines(10)
    client.force_login(admin)
    url = reverse("export_admin:proposals_budgetline_export")
    with CaptureQueriesContext(connection) as small:
        client.post(url, {"format": "0", "resource": "0"})
    _fund_with_lines(90)
    with CaptureQueriesContext(connection) as large:
        response = client.post(url, {"format": "0", "resource": "0"})
    assert open_book(response.content).active.max_row == 1 + 10 + 90 + 4  # + the 4 venue lines
    assert len(large) == len(small)


def test_export_fund_budget_command_writes_the_workbook(tmp_path, budget):
    proposal, _staff = budget
    path = tmp_path / "fund.xlsx"
    out = io.StringIO()
    call_command("export_fund_budget", str(proposal.fund.pk), "--output", str(path), stdout=out)
    assert "Wrote" in out.getvalue()
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", "Budget lines", "Subtotals"]
    assert book["Summary"].cell(row=5, column=1).value == proposal.pk
    with pytest.raises(CommandError, match="No fund"):
        call_command("export_fund_budget", "No such fund")
