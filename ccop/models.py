"""The core every other app builds on: country programmes, rightsholder groups, organisations,
CoPs with their phases and memberships, and the people who use the portal with their roles."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ByCodeManager(models.Manager):
    """Reference data found by its code in fixtures (natural keys)."""

    def get_by_natural_key(self, code: str):
        return self.get(code=code)


class CountryProgramme(models.Model):
    code = models.CharField(_("code"), max_length=2, unique=True, help_text=_("ISO country code"))
    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(_("country"), max_length=80)
    language = models.CharField(
        _("local language"), max_length=8, help_text=_("Language code, e.g. km or lo")
    )
    facilitators = models.ManyToManyField(
        "Organisation",
        verbose_name=_("facilitator organisations"),
        related_name="facilitated_programmes",
        blank=True,
    )

    objects = ByCodeManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("country programme")
        verbose_name_plural = _("country programmes")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class RightsholderGroup(models.Model):
    """One of the five fixed rightsholder groups (created by a data migration)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_local = models.CharField(_("name in Khmer"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ByCodeManager()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("rightsholder group")
        verbose_name_plural = _("rightsholder groups")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    def display_name(self, language: str | None = None) -> str:
        """The group's name in the reader's language where one is recorded (Khmer)."""
        language = language or get_language() or "en"
        return self.name_local if self.name_local and language == "km" else self.name


class OrganisationManager(models.Manager):
    def get_by_natural_key(self, acronym: str):
        return self.get(acronym=acronym)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        GRANTEE = "grantee", _("Grantee partner")
        FACILITATOR = "facilitator", _("Linking & Learning facilitator")
        PARTNER = "partner", _("Other partner")

    acronym = models.CharField(_("acronym"), max_length=30, unique=True)
    name = models.CharField(_("name in English"), max_length=200)
    name_local = models.CharField(
        _("name in Khmer or Lao"), max_length=200, blank=True, help_text=_("As the organisation writes it")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.GRANTEE)
    country_programme = models.ForeignKey(
        CountryProgramme,
        verbose_name=_("country programme"),
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    website = models.URLField(_("website"), blank=True)
    history = HistoricalRecords()

    objects = OrganisationManager()

    class Meta:
        ordering = ["acronym"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return f"{self.acronym} – {self.name}"

    def natural_key(self) -> tuple[str]:
        return (self.acronym,)

    natural_key.dependencies = ["ccop.countryprogramme"]

    @property
    def is_grantee(self) -> bool:
        return self.kind == self.Kind.GRANTEE

    def display_name(self, language: str | None = None) -> str:
        """The name in the reader's language where one is recorded."""
        language = language or get_language() or "en"
        if self.name_local and language == self.country_programme.language:
            return self.name_local
        return self.name


class CoP(models.Model):
    class Status(models.TextChoices):
        FORMING = "forming", _("Forming")
        ACTIVE = "active", _("Active")
        DISBANDED = "disbanded", _("Disbanded")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    country_programme = models.ForeignKey(
        CountryProgramme, verbose_name=_("country programme"), on_delete=models.PROTECT, related_name="cops"
    )
    domain = models.TextField(_("domain"), help_text=_("The shared question or key issue"))
    rightsholder_groups = models.ManyToManyField(
        RightsholderGroup, verbose_name=_("rightsholder groups"), related_name="cops"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.FORMING)
    organisations = models.ManyToManyField(
        Organisation, through="Membership", related_name="cops", verbose_name=_("members")
    )
    history = HistoricalRecords()

    objects = ByCodeManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("community of practice")
        verbose_name_plural = _("communities of practice")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    natural_key.dependencies = ["ccop.countryprogramme", "ccop.rightsholdergroup"]

    def active_memberships(self, on: datetime.date | None = None):
        return self.memberships.filter(Membership.active_q(on))


class CoPPhaseManager(models.Manager):
    def get_by_natural_key(self, cop_code: str, number: int):
        return self.get(cop__code=cop_code, number=number)


class CoPPhase(models.Model):
    """A CoP can run in phases (CoP-Women phase I in 2023, phase II in 2024)."""

    cop = models.ForeignKey(CoP, on_delete=models.CASCADE, related_name="phases", verbose_name=_("CoP"))
    number = models.PositiveSmallIntegerField(_("phase"))
    title = models.CharField(_("title"), max_length=200)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    objects = CoPPhaseManager()

    class Meta:
        ordering = ["cop", "number"]
        verbose_name = _("CoP phase")
        verbose_name_plural = _("CoP phases")
        constraints = [
            models.UniqueConstraint(fields=["cop", "number"], name="unique_cop_phase_number"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="cop_phase_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cop.name} phase {self.number}"

    def natural_key(self) -> tuple[str, int]:
        return (self.cop.code, self.number)

    natural_key.dependencies = ["ccop.cop"]

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A phase cannot end before it starts.")})


class MembershipManager(models.Manager):
    def get_by_natural_key(self, cop_code: str, acronym: str):
        return self.get(cop__code=cop_code, organisation__acronym=acronym)


class Membership(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead member")
        MEMBER = "member", _("Member")
        REPRESENTATIVE = "representative", _("CoP representative")

    cop = models.ForeignKey(CoP, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("CoP"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    history = HistoricalRecords()

    objects = MembershipManager()

    class Meta:
        ordering = ["cop", "organisation__acronym"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["cop", "organisation"], name="unique_cop_membership"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.acronym} in {self.cop.name}"

    def natural_key(self) -> tuple[str, str]:
        return (self.cop.code, self.organisation.acronym)

    natural_key.dependencies = ["ccop.cop", "ccop.organisation"]

    def clean(self) -> None:
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            raise ValidationError({"left_on": _("An organisation cannot leave before it joined.")})

    @staticmethod
    def active_q(on: datetime.date | None = None, prefix: str = "") -> Q:
        on = on or timezone.localdate()
        return Q(**{f"{prefix}joined_on__lte": on}) & (
            Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gte": on})
        )

    def is_active(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.joined_on <= on and (self.left_on is None or self.left_on >= on)


class User(AbstractUser):
    """A person who uses the portal, affiliated to an organisation, with one role."""

    class Role(models.TextChoices):
        GRANTEE_STAFF = "grantee_staff", _("Grantee staff")
        COMMITTEE_MEMBER = "committee_member", _("Committee member")
        FACILITATOR = "facilitator", _("Facilitator")

    email = models.EmailField(_("e-mail address"), blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="staff",
        null=True,
        blank=True,
        help_text=_("The organisation this person works for."),
    )
    affiliations = models.ManyToManyField(
        Organisation,
        verbose_name=_("other affiliations"),
        related_name="affiliated_people",
        blank=True,
        help_text=_("Boards, volunteering or past employment: counted for conflicts of interest."),
    )
    country_programme = models.ForeignKey(
        CountryProgramme,
        verbose_name=_("country programme"),
        on_delete=models.PROTECT,
        related_name="people",
        null=True,
        blank=True,
        help_text=_("For facilitators and committee members: the programme they work in."),
    )
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        default="en",
        choices=[("en", "English"), ("km", "ខ្មែរ"), ("lo", "ລາວ")],
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="unique_user_email_when_set"
            ),
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    def get_absolute_url(self) -> str:
        return reverse("admin:ccop_user_change", args=[self.pk])

    @property
    def is_grantee_staff(self) -> bool:
        return self.role == self.Role.GRANTEE_STAFF

    @property
    def is_committee_member(self) -> bool:
        return self.role == self.Role.COMMITTEE_MEMBER

    @property
    def is_facilitator(self) -> bool:
        return self.role == self.Role.FACILITATOR

    def affiliated_organisation_ids(self) -> set[int]:
        """Primary organisation plus every other affiliation (for conflicts of interest)."""
        ids = set(self.affiliations.values_list("pk", flat=True))
        if self.organisation_id:
            ids.add(self.organisation_id)
        return ids


class Invitation(models.Model):
    """A facilitator invites a person by e-mail to an organisation; the link lets them set a
    password and land in the portal at once (no approval step). Only the token's SHA-256 is
    stored: the link itself exists only in the e-mail."""

    email = models.EmailField(_("e-mail address"))
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(
        _("role"), max_length=20, choices=User.Role.choices, default=User.Role.GRANTEE_STAFF
    )
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    user = models.ForeignKey(
        User, verbose_name=_("account"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation.acronym}"

    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
