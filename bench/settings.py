"""Settings of the bench: the test settings (real database from DATABASE_URL, static files as in
production through whitenoise) with the bench's URLs (the portal's plus the floor view) and no
debug output. Not for serving anyone."""

from ccop.settings.test import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django.request": {"handlers": ["null"], "propagate": False}},
}
