"""Forms of the activity pages. They parse and show; the rules are in `activities.services`,
which checks everything again (the forms call its checks in `clean()` to show each error on its
field)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ccop.models import RightsholderGroup

from . import services, uploads
from .models import ActivityReport, DatePrecision, Lesson, Output, Stakeholder

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PEOPLE = {"min_value": 0, "max_value": 1_000_000, "required": False}


def _people(label, help_text=""):
    return forms.IntegerField(
        label=label, help_text=help_text, widget=forms.NumberInput(attrs={"inputmode": "numeric"}), **PEOPLE
    )


class ReportForm(forms.Form):
    """A report's own fields and its participants by rightsholder group (one field per group,
    `group_<code>`)."""

    title = forms.CharField(label=_("Title"), max_length=250)
    kind = forms.ChoiceField(label=_("Kind of activity"), choices=[("", "—"), *ActivityReport.Kind.choices])
    planned_activity = forms.ModelChoiceField(
        label=_("Planned activity it delivers"),
        queryset=None,
        required=False,
        empty_label=_("None: it was not in the plan"),
    )
    no_plan_reason = forms.CharField(
        label=_("Why it delivers no planned activity"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    starts_on = forms.DateField(label=_("First day"), required=False, widget=DATE)
    ends_on = forms.DateField(label=_("Last day"), required=False, widget=DATE)
    is_online = forms.BooleanField(label=_("Held online"), required=False)
    province = forms.CharField(label=_("Province"), max_length=100, required=False)
    place = forms.CharField(
        label=_("Place"), max_length=200, required=False, help_text=_("Venue, village or town.")
    )
    description = forms.CharField(
        label=_("What happened"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What you did, who spoke, what participants asked for."),
    )
    participants_total = _people(
        _("Participants in all"), _("Each person once, even when they belong to several groups.")
    )
    participants_approximate = forms.BooleanField(label=_("The total is approximate"), required=False)
    women = _people(_("Women"))
    men = _people(_("Men"))
    other_gender = _people(_("Another gender identity"))
    gender_not_said = _people(_("Preferred not to say"))

    GENDER_FIELDS = ("women", "men", "other_gender", "gender_not_said")

    def __init__(self, *args, grant, groups: list[RightsholderGroup], **kwargs):
        super().__init__(*args, **kwargs)
        self.grant = grant
        self.groups = groups
        self.fields["planned_activity"].queryset = grant.proposal.activities.order_by("order", "pk")
        for group in groups:
            self.fields[f"group_{group.code}"] = _people(group.display_name())

    @property
    def group_fields(self):
        return [self[f"group_{g.code}"] for g in self.groups]

    @property
    def gender_fields(self):
        return [self[name] for name in self.GENDER_FIELDS]

    def group_numbers(self) -> dict[int, int]:
        return {
            g.pk: self.cleaned_data[f"group_{g.code}"]
            for g in self.groups
            if self.cleaned_data.get(f"group_{g.code}") is not None
        }

    def report_fields(self) -> dict:
        fields = {
            name: self.cleaned_data.get(name) for name in services.REPORT_FIELDS if name != "date_precision"
        }
        fields["date_precision"] = DatePrecision.DAY
        for name in ("title", "kind", "no_plan_reason", "province", "place", "description"):
            fields[name] = fields[name] or ""
        return fields

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            services.report_check_participants(
                total=cleaned.get("participants_total"),
                **{name: cleaned.get(name) for name in self.GENDER_FIELDS},
                groups=self.group_numbers(),
            )
        except ValidationError as exc:
            self.add_service_errors(exc)
        return cleaned

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put a service's refusal on the fields it names (a group's on that group's field)."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            if field == "groups":
                total = self.cleaned_data.get("participants_total")
                over = [
                    f"group_{g.code}"
                    for g in self.groups
                    if (self.cleaned_data.get(f"group_{g.code}") or 0) > (total or 0)
                ]
                for name, error in zip(over, errors, strict=False):
                    self.add_error(name, error)
                for error in errors[len(over) :]:
                    self.add_error(None, error)
            else:
                self.add_error(field if field in self.fields else None, errors)


class StakeholderForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *Stakeholder.Kind.choices], required=False)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("name") and not cleaned.get("kind"):
            self.add_error("kind", _("Choose what kind of stakeholder this is."))
        return cleaned


class BaseStakeholderFormSet(forms.BaseFormSet):
    def rows(self) -> list[tuple[str, str]]:
        return [
            (f.cleaned_data["kind"], f.cleaned_data["name"]) for f in self.forms if f.cleaned_data.get("name")
        ]


StakeholderFormSet = forms.formset_factory(
    StakeholderForm,
    formset=BaseStakeholderFormSet,
    extra=2,
    max_num=services.MAX_STAKEHOLDERS,
    validate_max=True,
)


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG or WebP, up to 10 MB."),
    )
    description = forms.CharField(
        label=_("What the photo shows"),
        max_length=300,
        required=False,
        help_text=_("Said to people who cannot see the photo."),
    )

    def clean(self):
        cleaned = super().clean()
        photo = cleaned.get("photo")
        if photo:
            try:
                uploads.check_photo(photo)
            except ValidationError as exc:
                self.add_error("photo", exc)
            if not cleaned.get("description", "").strip():
                self.add_error("description", _("Say what the photo shows, for people who cannot see it."))
        return cleaned


PhotoFormSet = forms.formset_factory(PhotoForm, extra=2, max_num=2)


class RemovePhotosForm(forms.Form):
    remove = forms.MultipleChoiceField(
        label=_("Remove these photos"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, photos, **kwargs):
        super().__init__(*args, **kwargs)
        self.photos = {str(p.pk): p for p in photos}
        self.fields["remove"].choices = [(pk, p.description) for pk, p in self.photos.items()]

    def chosen(self):
        return [self.photos[pk] for pk in self.cleaned_data.get("remove", [])]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("send_back", _("Send back"))])
    comment = forms.CharField(
        label=_("Comment for the CoP"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to send the report back: say what to change."),
    )


class OutputForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of output"), choices=[("", "—"), *Output.Kind.choices])
    title = forms.CharField(label=_("Title"), max_length=250)
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=Output.LANGUAGES, required=False, widget=forms.CheckboxSelectMultiple
    )
    produced_on = forms.DateField(label=_("Date"), required=False, widget=DATE)
    url = forms.URLField(
        label=_("Link"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Where people can watch or read it (a link or a file, not both)."),
    )
    file = forms.FileField(
        label=_("File"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}),
        help_text=_("A PDF (up to 20 MB) or a photo."),
    )
    findings = forms.CharField(
        label=_("Findings"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For research: what it found."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("url") and cleaned.get("file"):
            self.add_error("file", _("Give a link or a file, not both."))
        return cleaned


class LessonForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"),
        choices=Lesson.Stage.choices,
        widget=forms.RadioSelect,
        help_text=_("Explore (looking for a way), Test (trying it), Reflect (looking back)."),
    )
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(label=_("What did you learn?"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, themes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = themes
