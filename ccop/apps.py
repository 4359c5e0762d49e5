from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CcopConfig(AppConfig):
    name = "ccop"
    verbose_name = _("Programmes, organisations and CoPs")
