"""Money services. `grant_award` is the only way a grant comes into being; it is called by the
proposal approval inside the same transaction and holds the fund's row lock (DESIGN rule 2)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from ccop import money
from ccop.errors import RuleViolation

from .models import Fund, Grant


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
