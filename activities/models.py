"""What the CoPs did, made and learned: activity reports filed for a grant (with participants,
stakeholders and photos), outputs (videos, articles, posters, reports...) and lessons learned.

Reports filed in the portal always belong to a grant of the CoP; records transcribed from a
published source (the booklet) carry that `source` instead and may have no grant. The rules are
in `activities.services`; what one row can say is here."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ccop.models import CoP, CountryProgramme, Membership, RightsholderGroup, User


def scope_to_cops(queryset: models.QuerySet, user, cop: str = "cop") -> models.QuerySet:
    """Rows of CoPs this person may see (DESIGN rule 6), as `proposals_for_user` scopes
    proposals: superusers all; facilitators their programme; committee members their programme
    (all without one); grantee staff the CoPs their organisation is or was a member of."""
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if user.is_superuser:
        return queryset
    if user.role == User.Role.FACILITATOR:
        return queryset.filter(**{f"{cop}__country_programme_id": user.country_programme_id})
    if user.role == User.Role.COMMITTEE_MEMBER:
        if user.country_programme_id is None:
            return queryset
        return queryset.filter(**{f"{cop}__country_programme_id": user.country_programme_id})
    if user.role == User.Role.GRANTEE_STAFF and user.organisation_id:
        member = Membership.objects.filter(cop_id=OuterRef(f"{cop}_id"), organisation_id=user.organisation_id)
        return queryset.filter(Exists(member))
    return queryset.none()


class DatePrecision(models.TextChoices):
    DAY = "day", _("Exact days")
    MONTH = "month", _("Months only")


def dates_label(starts_on, ends_on, precision: str) -> str:
    if not starts_on:
        return ""
    fmt = "F Y" if precision == DatePrecision.MONTH else "j F Y"
    first = date_format(starts_on, fmt)
    last = date_format(ends_on, fmt) if ends_on else first
    return first if first == last else f"{first} – {last}"


class ReferenceQuerySet(models.QuerySet):
    """Reference records carry a `reference` (their natural key in the fixtures)."""

    def get_by_natural_key(self, reference: str):
        return self.get(reference=reference)


class ActivityReportQuerySet(ReferenceQuerySet):
    def visible_to(self, user) -> ActivityReportQuerySet:
        return scope_to_cops(self, user)

    def published(self) -> ActivityReportQuerySet:
        return self.filter(status=ActivityReport.Status.PUBLISHED)


class ActivityReport(models.Model):
    """An implemented co-creation activity, reported by the CoP's staff for a grant."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        SENT_BACK = "sent_back", _("Sent back")
        ACCEPTED = "accepted", _("Accepted")
        PUBLISHED = "published", _("Published")

    class Kind(models.TextChoices):
        WORKSHOP = "workshop", _("Workshop")
        CAMPAIGN = "campaign", _("Campaign")
        THEATRE = "theatre", _("Theatre performance")
        SCREENING = "screening", _("Screening")
        RESEARCH = "research", _("Research")
        TRAINING = "training", _("Training")
        ONLINE = "online_session", _("Online session")
        FIELD_VISIT = "field_visit", _("Field visit")
        EXHIBITION = "exhibition", _("Exhibition")
        OTHER = "other", _("Other")

    cop = models.ForeignKey(
        CoP, verbose_name=_("CoP"), on_delete=models.PROTECT, related_name="activity_reports"
    )
    grant = models.ForeignKey(
        "grants.Grant",
        verbose_name=_("grant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activity_reports",
    )
    planned_activity = models.ForeignKey(
        "proposals.PlannedActivity",
        verbose_name=_("planned activity it delivers"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    no_plan_reason = models.TextField(
        _("why it delivers no planned activity"),
        blank=True,
        help_text=_("Only when the activity was not in the approved plan."),
    )
    title = models.CharField(_("title"), max_length=250)
    kind = models.CharField(_("kind of activity"), max_length=20, choices=Kind.choices)
    starts_on = models.DateField(_("first day"), null=True, blank=True)
    ends_on = models.DateField(_("last day"), null=True, blank=True)
    date_precision = models.CharField(
        _("dates known to"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    is_online = models.BooleanField(_("held online"), default=False)
    province = models.CharField(_("province"), max_length=100, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True, help_text=_("Venue, village or town."))
    description = models.TextField(_("what happened"), blank=True)
    participants_total = models.PositiveIntegerField(
        _("participants in all"),
        null=True,
        blank=True,
        help_text=_("Each person once, even when they belong to several groups."),
    )
    participants_approximate = models.BooleanField(
        _("the total is approximate"), default=False, help_text=_("For example “around 90”.")
    )
    women = models.PositiveIntegerField(_("women"), null=True, blank=True)
    men = models.PositiveIntegerField(_("men"), null=True, blank=True)
    other_gender = models.PositiveIntegerField(_("another gender identity"), null=True, blank=True)
    gender_not_said = models.PositiveIntegerField(_("preferred not to say"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
        db_index=True,
    )
    reference = models.CharField(
        _("reference"),
        max_length=80,
        blank=True,
        help_text=_("A stable name for records loaded from the reference fixtures."),
    )
    source = models.CharField(
        _("source"),
        max_length=300,
        blank=True,
        help_text=_(
            "The published document this record is transcribed from; empty when filed in the portal."
        ),
    )
    is_demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Figures invented for the demo.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, null=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords()

    objects = ActivityReportQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("activity report")
        verbose_name_plural = _("activity reports")
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="unique_report_reference"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="report_dates_in_order",
            ),
            # Filed in the portal: for a grant. Transcribed: from a named source.
            models.CheckConstraint(
                condition=Q(grant__isnull=False) | ~Q(source=""), name="report_grant_or_source"
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False) | ~Q(source=""),
                name="report_published_has_date",
            ),
            # Participants are counted once: the parts ("of whom") never exceed the total, and
            # there are no parts without a total.
            models.CheckConstraint(
                condition=Q(participants_total__isnull=False)
                | Q(
                    women__isnull=True,
                    men__isnull=True,
                    other_gender__isnull=True,
                    gender_not_said__isnull=True,
                ),
                name="report_parts_need_total",
            ),
            models.CheckConstraint(
                condition=Q(
                    participants_total__gte=Coalesce(F("women"), Value(0))
                    + Coalesce(F("men"), Value(0))
                    + Coalesce(F("other_gender"), Value(0))
                    + Coalesce(F("gender_not_said"), Value(0))
                )
                | Q(participants_total__isnull=True),
                name="report_genders_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cop.name}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("activities:report-detail", args=[self.pk])

    def natural_key(self) -> tuple[str]:
        return (self.reference,)

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("An activity cannot end before it starts.")})

    def dates_label(self) -> str:
        """The dates as known: "29 October 2023", "11 – 12 December 2023" style, or months only."""
        return dates_label(self.starts_on, self.ends_on, self.date_precision)

    @property
    def gender_parts(self) -> dict[str, int | None]:
        return {
            "women": self.women,
            "men": self.men,
            "other_gender": self.other_gender,
            "gender_not_said": self.gender_not_said,
        }

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ReportParticipationManager(models.Manager):
    def get_by_natural_key(self, reference: str, group_code: str):
        return self.get(report__reference=reference, rightsholder_group__code=group_code)


class ReportParticipation(models.Model):
    """How many of the report's participants belong to a rightsholder group ("of whom"). One
    person may belong to several groups, so the groups may add up to more than the total; each
    group alone never exceeds it."""

    report = models.ForeignKey(ActivityReport, on_delete=models.CASCADE, related_name="participants")
    rightsholder_group = models.ForeignKey(
        RightsholderGroup, verbose_name=_("rightsholder group"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField(_("participants"))
    history = HistoricalRecords()

    objects = ReportParticipationManager()

    class Meta:
        ordering = ["rightsholder_group__order"]
        verbose_name = _("participants of a rightsholder group")
        verbose_name_plural = _("participants by rightsholder group")
        constraints = [
            models.UniqueConstraint(fields=["report", "rightsholder_group"], name="unique_report_group"),
        ]

    def __str__(self) -> str:
        return f"{self.number} × {self.rightsholder_group}"

    def natural_key(self) -> tuple[str, str]:
        return (*self.report.natural_key(), self.rightsholder_group.code)

    natural_key.dependencies = ["activities.activityreport", "ccop.rightsholdergroup"]


class StakeholderManager(models.Manager):
    def get_by_natural_key(self, reference: str, name: str):
        return self.get(report__reference=reference, name=name)


class Stakeholder(models.Model):
    """Who was present besides the rightsholders: authorities, ministries, NGOs, schools."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("Ministry or national authority")
        PROVINCIAL = "provincial", _("Provincial authority or department")
        LOCAL = "local", _("District, commune or village authority")
        NGO = "ngo", _("NGO or development partner")
        SCHOOL = "school", _("School or university")
        MEDIA = "media", _("Media")
        PRIVATE = "private", _("Business")
        OTHER = "other", _("Other")

    report = models.ForeignKey(ActivityReport, on_delete=models.CASCADE, related_name="stakeholders")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    history = HistoricalRecords()

    objects = StakeholderManager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("stakeholder present")
        verbose_name_plural = _("stakeholders present")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str, str]:
        return (*self.report.natural_key(), self.name)

    natural_key.dependencies = ["activities.activityreport"]


class ReportPhotoQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReportPhotoQuerySet:
        return scope_to_cops(self, user, cop="report__cop")


class ReportPhoto(models.Model):
    """A photo of the activity, stored privately (re-encoded, metadata removed) and served only
    through a permission-checked view, with a small copy for lists and pages."""

    report = models.ForeignKey(ActivityReport, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("photo"), max_length=200, editable=False)
    thumbnail = models.FileField(_("small copy"), max_length=200, editable=False)
    description = models.CharField(
        _("what the photo shows"),
        max_length=300,
        help_text=_("Said to people who cannot see the photo."),
    )
    content_type = models.CharField(max_length=40, editable=False)
    size = models.PositiveIntegerField(_("bytes"), editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    objects = ReportPhotoQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.description

    def get_absolute_url(self) -> str:
        return reverse("activities:photo", args=[self.pk])


class ReportTransition(models.Model):
    """One step of a report's workflow, with who, when and why (a sent-back report's reason)."""

    report = models.ForeignKey(ActivityReport, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(_("from"), max_length=20, choices=ActivityReport.Status.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=ActivityReport.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("report workflow step")
        verbose_name_plural = _("report workflow steps")

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class PublishableQuerySet(ReferenceQuerySet):
    def visible_to(self, user):
        return scope_to_cops(self, user)

    def published(self):
        """Published by a facilitator, or transcribed from a published source."""
        return self.filter(Q(published_at__isnull=False) | ~Q(source=""))


class Output(models.Model):
    """What an activity or a CoP produced: a video, an article, a poster, a report... as a link
    or a file. A research output carries its findings as text."""

    class Kind(models.TextChoices):
        VIDEO = "video", _("Video")
        ARTICLE = "article", _("Article")
        POSTER = "poster", _("Poster")
        REPORT = "report", _("Report")
        PHOTO_SET = "photo_set", _("Photo set")
        PUBLICATION = "publication", _("Publication")
        CAMPAIGN = "campaign", _("Campaign")

    LANGUAGES = [
        ("en", _("English")),
        ("km", _("Khmer")),
        ("lo", _("Lao")),
        ("kdt", _("Kuy")),
        ("csx", _("Cambodian Sign Language")),
        ("other", _("Another language")),
    ]

    cop = models.ForeignKey(CoP, verbose_name=_("CoP"), on_delete=models.PROTECT, related_name="outputs")
    report = models.ForeignKey(
        ActivityReport,
        verbose_name=_("activity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outputs",
    )
    kind = models.CharField(_("kind of output"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=250)
    languages = models.CharField(
        _("languages"), max_length=60, blank=True, help_text=_("Language codes, comma-separated.")
    )
    produced_on = models.DateField(_("date"), null=True, blank=True)
    date_precision = models.CharField(
        _("date known to"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    url = models.URLField(_("link"), max_length=500, blank=True)
    file = models.FileField(_("file"), max_length=200, blank=True, editable=False)
    file_content_type = models.CharField(max_length=60, blank=True, editable=False)
    file_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    findings = models.TextField(_("findings"), blank=True, help_text=_("For research: what it found."))
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, null=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords()

    objects = PublishableQuerySet.as_manager()

    class Meta:
        ordering = ["cop", "pk"]
        verbose_name = _("output")
        verbose_name_plural = _("outputs")
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="unique_output_reference"
            ),
            models.CheckConstraint(condition=Q(url="") | Q(file=""), name="output_link_or_file"),
        ]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.reference,)

    def date_label(self) -> str:
        return dates_label(self.produced_on, self.produced_on, self.date_precision)

    @property
    def language_list(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    @property
    def language_names(self) -> list[str]:
        names = dict(self.LANGUAGES)
        return [str(names.get(code, code)) for code in self.language_list]

    @property
    def is_published(self) -> bool:
        return self.published_at is not None or bool(self.source)


class LessonThemeQuerySet(models.QuerySet):
    def get_by_natural_key(self, code: str):
        return self.get(code=code)

    def visible_to(self, user):
        """The shared themes (no programme) and those of the person's programme."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self
        programme_id = user.country_programme_id
        if programme_id is None and user.organisation_id:
            programme_id = user.organisation.country_programme_id
        return self.filter(Q(country_programme__isnull=True) | Q(country_programme_id=programme_id))


class LessonTheme(models.Model):
    """A theme lessons are tagged with (the booklet's: timing, tax regulation, visibility...);
    facilitators add their programme's own."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_local = models.CharField(_("name in Khmer or Lao"), max_length=200, blank=True)
    country_programme = models.ForeignKey(
        CountryProgramme,
        verbose_name=_("country programme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lesson_themes",
        help_text=_("Empty: shared by every programme."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    objects = LessonThemeQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("lesson theme")
        verbose_name_plural = _("lesson themes")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class Lesson(models.Model):
    """A lesson learned by a CoP, from one of its activities or from its whole journey, placed
    in the Explore / Test / Reflect cycle and tagged with themes."""

    class Stage(models.TextChoices):
        EXPLORE = "explore", _("Explore")
        TEST = "test", _("Test")
        REFLECT = "reflect", _("Reflect")

    cop = models.ForeignKey(CoP, verbose_name=_("CoP"), on_delete=models.PROTECT, related_name="lessons")
    report = models.ForeignKey(
        ActivityReport,
        verbose_name=_("activity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lessons",
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    themes = models.ManyToManyField(LessonTheme, verbose_name=_("themes"), blank=True, related_name="lessons")
    text = models.TextField(_("lesson"))
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, null=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords()

    objects = PublishableQuerySet.as_manager()

    class Meta:
        ordering = ["cop", "pk"]
        verbose_name = _("lesson learned")
        verbose_name_plural = _("lessons learned")
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="unique_lesson_reference"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    def natural_key(self) -> tuple[str]:
        return (self.reference,)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None or bool(self.source)
