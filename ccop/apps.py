from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Libraries whose app or model names are not translatable (plain strings, or none at all): the
# admin shows these names instead, in the person's language. Their own translatable names
# (django-axes' models) are listed in ccop/django_messages.py.
LIBRARY_APP_NAMES = {
    "axes": _("Login attempts"),
    "otp_totp": _("Two-step login: authenticator apps"),
    "otp_static": _("Two-step login: backup codes"),
}
LIBRARY_MODEL_NAMES = {
    ("otp_totp", "totpdevice"): (
        pgettext_lazy("model", "authenticator app"),
        pgettext_lazy("model", "authenticator apps"),
    ),
    ("otp_static", "staticdevice"): (
        pgettext_lazy("model", "backup code set"),
        pgettext_lazy("model", "backup code sets"),
    ),
}


class CcopConfig(AppConfig):
    name = "ccop"
    verbose_name = _("Programmes, organisations and CoPs")

    def ready(self):
        """Translated names for the libraries' apps and models (see LIBRARY_APP_NAMES). Only the
        names shown change; migrations read a model's Meta, which stays as the library wrote it."""
        for label, name in LIBRARY_APP_NAMES.items():
            if apps.is_installed(label) or label in apps.app_configs:
                apps.get_app_config(label).verbose_name = name
        for (label, model_name), (singular, plural) in LIBRARY_MODEL_NAMES.items():
            if label in apps.app_configs:
                meta = apps.get_model(label, model_name)._meta
                meta.verbose_name, meta.verbose_name_plural = singular, plural
