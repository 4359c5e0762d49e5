"""One way to write money per language, from ccop/money.py: pages, the PDF and the e-mails write
the same amount the same way (thousands separators, two decimals, the currency code first), and
exchange rates with the decimals they have."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from ccop import money
from proposals import services
from proposals.models import BudgetLine
from tests.factories import CommitteeMemberFactory, ready_proposal

LANGUAGES = ["en", "km", "lo"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        (Decimal("4324"), "EUR", "EUR 4,324.00"),
        (Decimal("400000"), "KHR", "KHR 400,000.00"),
        (Decimal("100"), "USD", "USD 100.00"),
        (Decimal("1234567.895"), "LAK", "LAK 1,234,567.90"),
        (Decimal("-12.5"), "EUR", "EUR -12.50"),
    ],
)
def test_money_is_written_one_way(language, amount, currency, written):
    with translation.override(language):
        assert money.format_money(amount, currency) == written
        assert (
            Template("{% load money %}{{ a|money:c }}").render(Context({"a": amount, "c": currency}))
            == written
        )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("rate", "written"),
    [
        (Decimal("0.00023000"), "0.00023"),
        (Decimal("4100"), "4,100"),
        (Decimal("1.08000000"), "1.08"),
        (Decimal("25000.12345678"), "25,000.12345678"),
    ],
)
def test_rates_are_written_with_their_decimals(language, rate, written):
    with translation.override(language):
        assert money.format_rate(rate) == written
        assert Template("{% load money %}{{ r|rate }}").render(Context({"r": rate})) == written


def test_every_language_has_a_number_format_and_django_agrees():
    """Django's own number formatting (forms, admin, the audit trail) uses the same separators."""
    from django.utils import formats

    assert set(money.NUMBER_FORMATS) == {code for code, _ in settings.LANGUAGES}
    for language, (thousands, decimal) in money.NUMBER_FORMATS.items():
        with translation.override(language):
            assert formats.get_format("DECIMAL_SEPARATOR") == decimal
            assert (
                formats.number_format(Decimal("1234.5"), 2, force_grouping=True)
                == f"1{thousands}234{decimal}50"
            )


def _pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_page_pdf_and_email_write_the_same_amounts(client, django_capture_on_commit_callbacks, language):
    proposal, staff = ready_proposal(amount=Decimal("4000.00"), endorse=False)
    author = staff[0]
    activity = proposal.activities.first()
    services.budget_line_add(
        proposal=proposal,
        acting_user=author,
        activity=activity,
        category=BudgetLine.Category.OTHER,
        description="Banners",
        unit="banner",
        quantity=Decimal("4"),
        unit_cost=Decimal("100000"),
        currency="KHR",
    )
    services.exchange_rate_set(proposal=proposal, acting_user=author, currency="KHR", rate=Decimal("0.00023"))
    for person in staff:
        services.proposal_endorse(proposal=proposal, acting_user=person)
        person.preferred_language = language
        person.save()
    khr_line = money.format_money(Decimal("400000"), "KHR")  # "KHR 400,000.00" in every language
    total = money.format_money(Decimal("4092.00"), "EUR")  # 4,000 + 400,000 × 0.00023
    rate = f"1 KHR = {money.format_rate(Decimal('0.00023'))} EUR"

    client.force_login(author)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("proposals:proposal-detail", args=[proposal.pk])).content.decode()
    assert khr_line in page and total in page
    assert "KHR 100,000.00" in page  # the unit cost

    preview = client.get(reverse("proposals:proposal-preview-pdf", args=[proposal.pk]))
    text = _pdf_text(b"".join(preview.streaming_content) if preview.streaming else preview.content)
    assert khr_line in text and total in text and rate in text, text[-1500:]
    assert "100,000.00" in text and "400,000.00" in text

    services.proposal_submit(proposal=proposal, acting_user=author)
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    services.proposal_start_review(proposal=proposal, acting_user=member)
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_approve(proposal=proposal, acting_user=member, reasons="Good plan.")
    decision_mails = [m for m in mail.outbox if author.email in m.to and total in m.body]
    assert decision_mails, [m.body for m in mail.outbox]
    # No other way of writing the amount anywhere: not "4092.00", "4.092,00" or "4,092".
    for written in (page, text, decision_mails[0].body):
        assert not re.search(r"4\.?092,00|(?<![\d,])4092\.00", written)
