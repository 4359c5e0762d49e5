"""Test settings: the real database named by DATABASE_URL (SQLite by default), locmem e-mail."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="ccop-test-media-")
# Static files as in production: hashed names, gzip and brotli copies, served by whitenoise with
# long cache headers, so browser tests measure the bytes a phone really receives. The directory
# is filled once per test session (tests/conftest.py runs collectstatic when the sources change).
STATIC_ROOT = Path(os.environ.get("CCOP_TEST_STATIC_ROOT", BASE_DIR / ".cache" / "test-static"))  # noqa: F405
WHITENOISE_USE_FINDERS = False
# Look each file up when it is asked for (same files, compression and headers as production):
# without it every test client's middleware would index the 1,000 collected files first (~0.4 s).
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405
