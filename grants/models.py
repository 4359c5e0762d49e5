"""Money: funds with their ceilings, and the grants approvals create.

`grants` knows proposals only through the string reference "proposals.Proposal"."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ccop import money
from ccop.models import CountryProgramme

from .querysets import FundQuerySet, GrantQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}


class Fund(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    country_programme = models.ForeignKey(
        CountryProgramme, verbose_name=_("country programme"), on_delete=models.PROTECT, related_name="funds"
    )
    currency = models.CharField(_("currency"), max_length=3, choices=money.CURRENCY_CHOICES, default="EUR")
    accepted_currencies = models.CharField(
        _("accepted budget currencies"),
        max_length=60,
        default="EUR,USD,KHR",
        help_text=_("Comma-separated currency codes budget lines may use."),
    )
    ceiling = models.DecimalField(_("ceiling"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    per_proposal_cap = models.DecimalField(
        _("cap per proposal"), null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    description = models.TextField(_("description"), blank=True)
    objects = FundQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opens_on", "name"]
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        constraints = [
            models.CheckConstraint(condition=Q(ceiling__gt=0), name="fund_ceiling_positive"),
            models.CheckConstraint(
                condition=Q(per_proposal_cap__isnull=True) | Q(per_proposal_cap__gt=0),
                name="fund_cap_positive",
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")), name="fund_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({money.format_money(self.ceiling, self.currency)})"

    def clean(self) -> None:
        errors = {}
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            errors["closes_on"] = _("A fund cannot close before it opens.")
        if self.per_proposal_cap and self.ceiling and self.per_proposal_cap > self.ceiling:
            errors["per_proposal_cap"] = _("The cap per proposal cannot exceed the fund's ceiling.")
        unknown = set(self.accepted_currency_list) - set(money.CURRENCIES)
        if unknown:
            errors["accepted_currencies"] = _("Unknown currency: %(codes)s") % {
                "codes": ", ".join(sorted(unknown))
            }
        if errors:
            raise ValidationError(errors)

    @property
    def accepted_currency_list(self) -> list[str]:
        codes = [c.strip().upper() for c in self.accepted_currencies.split(",") if c.strip()]
        if self.currency not in codes:
            codes.insert(0, self.currency)
        return codes

    def is_open(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.opens_on <= on <= self.closes_on

    def approved_total(self) -> Decimal:
        """Derived, never stored: the sum of the grants awarded from this fund."""
        total = self.grants.aggregate(total=Sum("amount"))["total"]
        return money.quantize(total or 0)

    def remaining(self) -> Decimal:
        return money.quantize(self.ceiling - self.approved_total())


class Grant(models.Model):
    """Created by the approval of a proposal, never by hand (see proposals.services)."""

    fund = models.ForeignKey(Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="grants")
    proposal = models.OneToOneField(
        "proposals.Proposal", verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="grant"
    )
    amount = models.DecimalField(_("approved amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=money.CURRENCY_CHOICES)
    approved_by = models.ForeignKey(
        "ccop.User", verbose_name=_("approved by"), on_delete=models.PROTECT, related_name="approved_grants"
    )
    approved_at = models.DateTimeField(_("approved at"), default=timezone.now)
    pdf = models.FileField(_("approved PDF"), upload_to="grants/pdf/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    objects = GrantQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-approved_at"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="grant_amount_positive")]

    def __str__(self) -> str:
        return f"{self.proposal} – {money.format_money(self.amount, self.currency)}"
