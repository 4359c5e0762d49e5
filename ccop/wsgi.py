"""WSGI entry point (gunicorn ccop.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccop.settings.production")

application = get_wsgi_application()
