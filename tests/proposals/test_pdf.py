"""The proposal PDFs: the official PDF rendered once at approval and stored with its SHA-256, its
download (stored bytes, never rendered again, allowed users only), the DRAFT preview, the shipped
Khmer font, and `verify_pdfs`.

The views are reached through the portal's real URLconf (`proposals.pdf_urls` is appended to the
`proposals` namespace)."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import shutil
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, ManagementUtility, call_command
from django.urls import reverse
from pypdf import PdfReader

from ccop import money
from ccop.models import RightsholderGroup
from grants.models import Grant
from grants.services import grant_attach_pdf, grant_verify_pdf
from proposals import pdf, services
from proposals.models import BudgetLine, Decision, Proposal
from tests.factories import (
    CommitteeMemberFactory,
    StaffFactory,
    grantee_with_staff,
    ready_proposal,
)

pytestmark = [pytest.mark.django_db]

KHMER_TITLE = "សិក្ខាសាលាស្តីពីភាសាសញ្ញា"  # workshop on sign language
KHMER_LINE = "ការបកប្រែភាសាសញ្ញា"  # sign-language interpretation
LAO_TEXT = "ພາສາມື"  # sign language

needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdffonts")), reason="poppler-utils is not installed"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test its own storage folder, so files left by one cannot satisfy another."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --------------------------------------------------------------------------- helpers


def pdftotext(content: bytes, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    result = subprocess.run([*args, "-", "-"], input=content, capture_output=True, check=True)  # noqa: S603
    return result.stdout.decode("utf-8")


def embedded_font_names(content: bytes) -> set[str]:
    """FontName of every font on every page, without the subset prefix ("ABCDEF+") and the
    hyphens WeasyPrint puts between words ("Noto-Sans-Khmer" -> "NotoSansKhmer")."""
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            for item in [font, *(d.get_object() for d in (descendants or []))]:
                descriptor = item.get("/FontDescriptor")
                name = descriptor.get_object()["/FontName"] if descriptor else item.get("/BaseFont")
                if name:
                    names.add(str(name).lstrip("/").split("+", 1)[-1].replace("-", ""))
    return names


def khmer_proposal(*, lines: int = 0) -> tuple[Proposal, list]:
    """A complete draft with a Khmer activity and budget line, a USD line with its rate, and
    `lines` more budget lines; not endorsed."""
    proposal, staff = ready_proposal(endorse=False)
    groups = {g.code: g for g in RightsholderGroup.objects.all()}
    activity = services.activity_add(
        proposal=proposal,
        acting_user=staff[0],
        title=KHMER_TITLE,
        agenda="08:30 ការចុះឈ្មោះ (registration)\n09:00 Opening\n10:00 ພາສາມື practice",
        starts_on=datetime.date(2024, 4, 2),
        ends_on=datetime.date(2024, 4, 3),
        place="Phnom Penh",
        participants={groups["pwd"]: 25, groups["age"]: 10},
    )
    services.budget_line_add(
        proposal=proposal,
        acting_user=staff[0],
        activity=activity,
        category=BudgetLine.Category.PERSONNEL,
        description=KHMER_LINE,
        unit="day",
        quantity=Decimal("2"),
        unit_cost=Decimal("80.00"),
        currency="USD",
    )
    services.exchange_rate_set(proposal=proposal, acting_user=staff[0], currency="USD", rate=Decimal("0.9"))
    BudgetLine.objects.bulk_create(
        BudgetLine(
            proposal=proposal,
            activity=activity if i % 2 else None,
            category=BudgetLine.Category.MEALS,
            description=f"Lunch for participants, day {i + 1}",
            unit="person",
            quantity=Decimal("30"),
            unit_cost=Decimal("3.50"),
            currency="EUR",
            order=100 + i,
        )
        for i in range(lines)
    )
    proposal.refresh_from_db()
    return proposal, staff


def approved_khmer_proposal() -> tuple[Proposal, Decision, list, object]:
    proposal, staff = khmer_proposal()
    for person in staff:
        services.proposal_endorse(proposal=proposal, acting_user=person)
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    services.proposal_start_review(proposal=proposal, acting_user=member)
    decision = services.proposal_approve(
        proposal=proposal, acting_user=member, reasons="Strong joint ownership by the members."
    )
    proposal.refresh_from_db()
    return proposal, decision, staff, member


@pytest.fixture
def approved():
    return approved_khmer_proposal()


def stored_bytes(grant: Grant) -> bytes:
    with grant.pdf.storage.open(grant.pdf.name, "rb") as stored:
        return stored.read()


def download(client, user, proposal, name="proposals:proposal-pdf"):
    client.force_login(user)
    return client.get(reverse(name, args=[proposal.pk]))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --------------------------------------------------------------------------- the official PDF


@needs_poppler
def test_approval_stores_a_pdf_with_the_proposal_as_approved(approved):
    proposal, decision, staff, member = approved
    grant = Grant.objects.get(proposal=proposal)
    content = stored_bytes(grant)

    assert grant.pdf.name.startswith(f"grants/pdf/proposal-{proposal.pk}-{grant.pdf_sha256[:8]}")
    assert grant.pdf.name.endswith(".pdf")
    assert hashlib.sha256(content).hexdigest() == grant.pdf_sha256
    assert grant_verify_pdf(grant)

    text = pdftotext(content)
    flat = " ".join(text.split())
    assert proposal.cop.name in flat
    assert proposal.cop.country_programme.name in flat
    for membership in proposal.cop.memberships.select_related("organisation"):
        assert membership.organisation.acronym in flat
        assert membership.organisation.name in flat
    for endorsement in decision.approved_version["endorsements"]:
        assert endorsement["by"] in flat
    for line in decision.approved_version["budget_lines"]:
        assert line["description"] in flat
    assert KHMER_TITLE in text and KHMER_LINE in text  # exactly as entered
    assert LAO_TEXT in text
    # EUR 1,000.00 + USD 160.00 at 0.9 = EUR 1,144.00
    assert "EUR 1,000.00" in flat and "USD 160.00" in flat
    assert money.format_money(decision.amount, "EUR") == "EUR 1,144.00"
    assert "EUR 1,144.00" in flat
    assert "Strong joint ownership by the members." in flat
    assert (member.get_full_name()) in flat
    assert "DRAFT" not in text

    pages = len(PdfReader(io.BytesIO(content)).pages)
    for number in range(1, pages + 1):
        page = " ".join(pdftotext(content, number).split())
        assert f"Page {number} of {pages}" in page
        assert decision.approved_version_sha256 in page.replace(" ", "")


@needs_poppler
def test_official_pdf_embeds_the_shipped_khmer_font(approved):
    proposal, *_ = approved
    content = stored_bytes(proposal.grant)
    assert any(name.startswith("NotoSansKhmer") for name in embedded_font_names(content))
    fonts = subprocess.run(["pdffonts", "-"], input=content, capture_output=True, check=True)  # noqa: S603, S607
    assert b"NotoSansKhmer" in fonts.stdout.replace(b"-", b"")


def test_fonts_come_from_static_through_the_fetcher():
    proposal, _staff = khmer_proposal()
    html = pdf.render_proposal_html(
        proposal=proposal, snapshot=services.proposal_snapshot(proposal), draft=True
    )
    fetcher = pdf.StaticFileFetcher()
    pdf.html_to_pdf(html, fetcher=fetcher)
    assert {
        "fonts/NotoSansKhmer-Regular.ttf",
        "fonts/NotoSansKhmer-Bold.ttf",
        "fonts/NotoSansLao-Regular.ttf",
    } <= set(fetcher.fetched)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/font.ttf",
        "http://127.0.0.1/font.ttf",
        "data:font/ttf;base64,AAAA",
        "file:///etc/passwd",
        (Path(settings.BASE_DIR) / "static" / ".." / "manage.py").as_uri(),
    ],
)
def test_fetcher_serves_nothing_outside_static(url):
    with pytest.raises(ValueError):
        pdf.StaticFileFetcher().fetch(url)


@needs_poppler
def test_khmer_renders_with_the_shipped_font_on_a_machine_without_khmer_fonts(tmp_path):
    """Fontconfig limited to DejaVu (a fresh Debian): the shipped font is embedded; the same
    HTML without the @font-face rules embeds no Khmer font (the check can fail)."""
    dejavu = "/usr/share/fonts/truetype/dejavu"
    if not Path(dejavu).is_dir():
        pytest.skip("DejaVu fonts are not installed")
    proposal, _staff = khmer_proposal()
    html = pdf.render_proposal_html(
        proposal=proposal, snapshot=services.proposal_snapshot(proposal), draft=True
    )
    (tmp_path / "with.html").write_text(html)
    without = "\n".join(line for line in html.splitlines() if not line.startswith("@font-face"))
    (tmp_path / "without.html").write_text(without)
    (tmp_path / "fonts.conf").write_text(
        f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{dejavu}</dir><cachedir>{tmp_path}/cache</cachedir></fontconfig>"
    )
    script = textwrap.dedent(
        """
        import sys, django
        django.setup()
        from pathlib import Path
        from proposals.pdf import html_to_pdf
        for name in ("with", "without"):
            html = Path(sys.argv[1], name + ".html").read_text()
            Path(sys.argv[1], name + ".pdf").write_bytes(html_to_pdf(html))
        """
    )
    env = {
        **os.environ,
        "FONTCONFIG_FILE": str(tmp_path / "fonts.conf"),
        "DJANGO_SETTINGS_MODULE": "ccop.settings.test",
    }
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", script, str(tmp_path)], env=env, cwd=settings.BASE_DIR, check=True
    )
    with_fonts = embedded_font_names((tmp_path / "with.pdf").read_bytes())
    without_fonts = embedded_font_names((tmp_path / "without.pdf").read_bytes())
    assert any(name.startswith("NotoSansKhmer") for name in with_fonts), with_fonts
    assert any(name.startswith("NotoSansLao") for name in with_fonts), with_fonts
    assert not any("Khmer" in name for name in without_fonts), without_fonts


# --------------------------------------------------------------------------- rolled back


def test_render_failure_rolls_the_approval_back(monkeypatch, media_root):
    proposal, staff = khmer_proposal()
    for person in staff:
        services.proposal_endorse(proposal=proposal, acting_user=person)
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    services.proposal_start_review(proposal=proposal, acting_user=member)

    def broken(**kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(pdf, "render_proposal_pdf", broken)
    with pytest.raises(RuntimeError, match="renderer down"):
        services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good.")

    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.UNDER_REVIEW
    assert not Grant.objects.filter(proposal=proposal).exists()
    assert not Decision.objects.filter(proposal=proposal).exists()
    assert not list(Path(media_root).rglob("*.pdf"))


def test_the_pdf_is_stored_once(approved):
    proposal, *_rest, member = approved
    with pytest.raises(services.RuleViolation) as excinfo:
        grant_attach_pdf(grant=proposal.grant, content=b"%PDF-1.7 other", acting_user=member)
    assert excinfo.value.code == "pdf_exists"


# --------------------------------------------------------------------------- download


def test_download_serves_the_stored_file_and_never_renders_again(approved, client, monkeypatch):
    proposal, _decision, staff, _member = approved
    expected = stored_bytes(proposal.grant)

    first = download(client, staff[0], proposal)
    assert first.status_code == 200
    assert body(first) == expected

    def must_not_render(*args, **kwargs):
        raise AssertionError("the approved PDF was rendered again")

    monkeypatch.setattr(pdf, "render_proposal_pdf", must_not_render)
    monkeypatch.setattr(pdf, "html_to_pdf", must_not_render)
    monkeypatch.setattr("weasyprint.HTML.write_pdf", must_not_render)
    second = download(client, staff[1], proposal)
    assert second.status_code == 200
    assert body(second) == expected
    assert second["Content-Type"] == "application/pdf"
    assert second["Content-Disposition"].startswith("attachment;")
    assert f"proposal-{proposal.pk}-approved.pdf" in second["Content-Disposition"]
    assert second["X-Content-Type-Options"] == "nosniff"
    assert "private" in second["Cache-Control"]


def test_download_of_a_proposal_that_is_not_approved_is_404(client):
    proposal, staff = ready_proposal()
    assert download(client, staff[0], proposal).status_code == 404


def test_download_when_the_stored_file_is_gone_is_404(approved, client):
    proposal, _decision, staff, _member = approved
    proposal.grant.pdf.storage.delete(proposal.grant.pdf.name)
    assert download(client, staff[0], proposal).status_code == 404


@pytest.mark.parametrize("name", ["proposals:proposal-pdf", "proposals:proposal-preview-pdf"])
def test_outsiders_get_404_and_anonymous_people_the_login_page(approved, client, name):
    proposal, *_ = approved
    outsider = StaffFactory()  # another organisation, not a member of the CoP
    assert download(client, outsider, proposal, name).status_code == 404
    client.logout()
    response = client.get(reverse(name, args=[proposal.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_outsider_gets_404_for_a_draft_preview(client):
    proposal, _staff = ready_proposal()
    assert download(client, StaffFactory(), proposal, "proposals:proposal-preview-pdf").status_code == 404


# --------------------------------------------------------------------------- draft preview


@needs_poppler
def test_preview_is_marked_draft_on_every_page(client):
    proposal, staff = khmer_proposal(lines=120)
    member_staff = grantee_with_staff(proposal.cop)  # a member of the CoP, not an applicant
    response = download(client, member_staff, proposal, "proposals:proposal-preview-pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    content = response.content

    pages = len(PdfReader(io.BytesIO(content)).pages)
    assert pages >= 3
    for number in range(1, pages + 1):
        page = " ".join(pdftotext(content, number).split())
        assert "DRAFT – not approved" in page, f"page {number} is not marked DRAFT"
        assert f"Page {number} of {pages}" in page
    text = pdftotext(content)
    assert "Decision of the committee" not in text
    assert KHMER_TITLE in text
    assert "Lunch for participants, day 120" in text


@needs_poppler
def test_preview_shows_void_endorsements(client):
    proposal, staff = khmer_proposal()
    services.proposal_endorse(proposal=proposal, acting_user=staff[0])
    services.proposal_update(proposal=proposal, acting_user=staff[1], data={"objectives": "Changed."})
    response = download(client, staff[1], proposal, "proposals:proposal-preview-pdf")
    text = " ".join(pdftotext(response.content).split())
    assert "void: the proposal changed since" in text


def test_preview_of_an_approved_proposal_redirects_to_the_official_pdf(approved, client):
    proposal, _decision, staff, _member = approved
    response = download(client, staff[0], proposal, "proposals:proposal-preview-pdf")
    assert response.status_code == 302
    assert response["Location"] == reverse("proposals:proposal-pdf", args=[proposal.pk])


def test_draft_never_carries_the_approval_block():
    proposal, _staff = khmer_proposal()
    html = pdf.render_proposal_html(
        proposal=proposal,
        snapshot=services.proposal_snapshot(proposal),
        draft=True,
        decision=Decision(
            proposal=proposal, outcome="approved", amount=Decimal(1), currency="EUR", reasons="x"
        ),
    )
    assert "Decision of the committee" not in html
    assert html.count("DRAFT – not approved") >= 3  # margin box, watermark, banner


# --------------------------------------------------------------------------- verify_pdfs


def test_verify_pdfs_passes_when_every_pdf_matches(approved):
    out = io.StringIO()
    call_command("verify_pdfs", stdout=out)
    assert "1 approved PDFs verified." in out.getvalue()


def test_verify_pdfs_reports_a_tampered_file_with_exit_status_1(approved):
    """A failure is a CommandError with returncode 1: `manage.py verify_pdfs` exits with 1."""
    proposal, *_ = approved
    grant = proposal.grant
    path = Path(grant.pdf.path)
    path.write_bytes(path.read_bytes().replace(b"EUR 1,144.00", b"EUR 9,144.00") + b"\n")
    assert not grant_verify_pdf(grant)

    out = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_pdfs", stdout=out)
    assert excinfo.value.returncode == 1
    assert f"grant {grant.pk} (proposal {proposal.pk})" in out.getvalue()
    assert "DIFFERS" in out.getvalue()


def test_verify_pdfs_reports_a_missing_file(approved):
    proposal, *_ = approved
    proposal.grant.pdf.storage.delete(proposal.grant.pdf.name)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_pdfs", stdout=out)
    assert "MISSING" in out.getvalue()
    assert not grant_verify_pdf(proposal.grant)


def test_verify_pdfs_exits_with_status_1_from_the_command_line(approved):
    """The CLI's exit status, from the same CommandError (checked in-process: the test database
    is not visible to another process)."""
    proposal, *_ = approved
    Path(proposal.grant.pdf.path).write_bytes(b"%PDF-1.7 not the approved one")
    with pytest.raises(SystemExit) as excinfo:
        ManagementUtility(["manage.py", "verify_pdfs"]).execute()
    assert excinfo.value.code == 1
