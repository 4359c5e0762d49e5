from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """One code, typed on a phone: a numeric keypad, and the phone may offer the code itself."""

    code = forms.CharField(
        label=_("Code"),
        max_length=24,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, label=None, help_text=None, autofocus=False, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["code"].label = label
        if help_text:
            self.fields["code"].help_text = help_text
        if autofocus:
            self.fields["code"].widget.attrs["autofocus"] = True
