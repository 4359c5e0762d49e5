"""Money services. `grant_award` is the only way a grant comes into being; it is called by the
proposal approval inside the same transaction and holds the fund's row lock (DESIGN rule 2)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from ccop import money
from ccop.errors import RuleViolation

from .models import Fund, Grant

logger = logging.getLogger(__name__)


def fund_check_amount(*, fund: Fund, amount: Decimal, approved_total: Decimal | None = None) -> None:
    """Refuse an amount over the per-proposal cap or over what is left under the ceiling."""
    amount = money.quantize(amount)
    if amount <= 0:
        raise RuleViolation(_("The amount must be greater than zero."), code="amount_not_positive")
    if fund.per_proposal_cap is not None and amount > fund.per_proposal_cap:
        raise RuleViolation(
            _("%(amount)s is over the fund's cap of %(cap)s per proposal.")
            % {
                "amount": money.format_money(amount, fund.currency),
                "cap": money.format_money(fund.per_proposal_cap, fund.currency),
            },
            code="over_cap",
        )
    if approved_total is None:
        approved_total = fund.approved_total()
    remaining = money.quantize(fund.ceiling - approved_total)
    if amount > remaining:
        raise RuleViolation(
            _("%(amount)s would take the fund over its ceiling of %(ceiling)s: only %(remaining)s remains.")
            % {
                "amount": money.format_money(amount, fund.currency),
                "ceiling": money.format_money(fund.ceiling, fund.currency),
                "remaining": money.format_money(remaining, fund.currency),
            },
            code="over_ceiling",
        )


def fund_check_change(*, fund: Fund, ceiling: Decimal, currency: str) -> None:
    """Refuse a saved fund's new ceiling below what it has already awarded, or a new currency
    once it has awarded grants (their amounts are in the old one). Lock the fund row first when
    the change is saved, as `grant_award` does."""
    grants = Grant.objects.filter(fund_id=fund.pk)
    committed = money.quantize(grants.aggregate(total=Sum("amount"))["total"] or 0)
    errors = {}
    if ceiling is not None and money.quantize(ceiling) < committed:
        errors["ceiling"] = _(
            "%(approved)s is already approved from this fund; the ceiling cannot be lower."
        ) % {"approved": money.format_money(committed, fund.currency)}
    if currency and grants.exclude(currency=currency).exists():
        errors["currency"] = _(
            "This fund has awarded grants in %(currency)s; its currency cannot change."
        ) % {"currency": fund.currency}
    if errors:
        raise RuleViolation(errors, code="fund_committed")


def grant_award(*, fund_id: int, proposal, amount: Decimal, acting_user) -> Grant:
    """Lock the fund's row, check the cap and the ceiling against the committed total, and write
    the grant, all in one transaction: two approvals at the same moment cannot overshoot."""
    with transaction.atomic():
        fund = Fund.objects.select_for_update().get(pk=fund_id)
        committed = Grant.objects.filter(fund_id=fund.pk).aggregate(total=Sum("amount"))["total"]
        fund_check_amount(fund=fund, amount=amount, approved_total=money.quantize(committed or 0))
        grant = Grant(
            fund=fund,
            proposal=proposal,
            amount=money.quantize(amount),
            currency=fund.currency,
            approved_by=acting_user,
        )
        grant._history_user = acting_user
        grant.save()
        return grant


# --------------------------------------------------------------------------- the approved PDF

PDF_CHUNK = 64 * 1024


def grant_attach_pdf(*, grant: Grant, content: bytes, acting_user) -> Grant:
    """Store the approved proposal's PDF on its grant, once, with the SHA-256 of its bytes.

    Called by the approval inside its transaction; the file is written to the storage backend
    (which does not roll back), so it is removed again when saving the grant fails."""
    if grant.pdf or grant.pdf_sha256:
        raise RuleViolation(_("This grant already has its approved PDF."), code="pdf_exists")
    sha256 = hashlib.sha256(content).hexdigest()
    grant.pdf.save(f"proposal-{grant.proposal_id}-{sha256[:8]}.pdf", ContentFile(content), save=False)
    grant.pdf_sha256 = sha256
    grant._history_user = acting_user
    try:
        grant.save(update_fields=["pdf", "pdf_sha256"])
    except BaseException:
        grant.pdf.delete(save=False)
        raise
    return grant


def grant_discard_pdf(grant: Grant) -> None:
    """Remove the PDF file of a grant whose approval rolled back (the storage does not roll
    back with the database). A storage failure here is logged, not raised: the caller is
    already handling the approval's own failure."""
    name = grant.pdf.name
    if not name:
        return
    try:
        grant.pdf.storage.delete(name)
    except Exception:
        logger.exception("Could not remove %s after its approval rolled back", name)


def grant_stored_pdf_sha256(grant: Grant) -> str | None:
    """The SHA-256 of the PDF file as stored now; None when no file is recorded or it cannot be
    read (gone from the storage)."""
    if not grant.pdf:
        return None
    storage, name = grant.pdf.storage, grant.pdf.name
    try:
        with storage.open(name, "rb") as stored:
            digest = hashlib.sha256()
            for chunk in iter(lambda: stored.read(PDF_CHUNK), b""):
                digest.update(chunk)
    except OSError:  # FileNotFoundError, and what remote storages raise for a missing object
        return None
    return digest.hexdigest()


def grant_verify_pdf(grant: Grant) -> bool:
    """True when the stored PDF exists and its SHA-256 is the one recorded at approval."""
    stored = grant_stored_pdf_sha256(grant)
    return bool(stored and grant.pdf_sha256) and hmac.compare_digest(stored, grant.pdf_sha256)
