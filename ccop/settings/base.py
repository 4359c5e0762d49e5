"""Settings shared by every environment. Everything that differs comes from the environment."""

import datetime
import os
from pathlib import Path

import dj_database_url
import django.conf.locale
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "import_export",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ccop",
    "grants",
    "proposals",
    "activities",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Pages are compressed for weak connections (Django masks the CSRF token in every response,
    # which is what protects compressed pages against BREACH).
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Committee members, facilitators and admins reach nothing but the two-factor pages until
    # their session is verified with a code (ccop/accounts/middleware.py).
    "ccop.accounts.middleware.TwoFactorRequiredMiddleware",
    "ccop.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ccop.middleware.RejectNullCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a login refused during a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ccop.urls"
WSGI_APPLICATION = "ccop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite file by default so a fresh machine needs nothing else; PostgreSQL via DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction begins and wait up to 20 s for it, so two
    # requests writing together queue instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")

# Reference data (the seed documents' programmes, organisations, CoPs, activities, outputs and
# lessons): `manage.py loaddata reference_programmes reference_cops booklet` (see fixtures/README.md).
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "ccop.User"
# The proposal edit page posts every row in one form: 9 fields a budget line, 13 or so an
# activity. Django's default of 1,000 fields refused pages of more than some 100 lines (a 400);
# the formsets take at most 2,000 rows each, the import 2,000 lines.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 25_000

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes first: it refuses a locked-out username+address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions end after two hours without a request (every request moves the end): phones are shared
# in partner offices and at workshops, and the next person must not find someone else logged in;
# two hours still cover a long stretch of drafting with breaks (typed input is kept in the browser
# until the server has it, so logging in again loses nothing). Changing the password ends every
# other session of that person (Django's session hash).
SESSION_COOKIE_AGE = 2 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = True

# Guessing passwords (django-axes): five wrong passwords for one user name from one address lock
# that pair out for 15 minutes, in the portal's and the admin's login alike; a wrong password
# during the lockout starts the 15 minutes again; a right one clears the count. Attempts are
# rows in the database, so every app server sees them.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ccop.accounts.throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "ccop.accounts.throttling.client_ip"
# Proxies in front of the app servers that append to X-Forwarded-For (the load balancer: 1);
# 0 uses the connection's address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Two-factor login (django-otp, TOTP apps and backup codes): see ccop/accounts/two_factor.py for
# who must use it.
OTP_TOTP_ISSUER = "CCoP portal"
# The admin lists and deletes people's authenticators and backup codes (a lost phone) but never
# shows their secrets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Content-Security-Policy (django-csp): nothing inline, nothing from elsewhere. Scripts, styles
# and fonts are the portal's own files; pages keep no inline <script>, no on* attributes and no
# style attributes (tests/ccop/test_csp.py checks every page a role reaches).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Django knows Khmer but not Lao: teach it the language's name (its own strings stay English).
django.conf.locale.LANG_INFO = {
    **django.conf.locale.LANG_INFO,
    "lo": {"bidi": False, "code": "lo", "name": "Lao", "name_local": "ລາວ"},
    "km": {"bidi": False, "code": "km", "name": "Khmer", "name_local": "ខ្មែរ"},
}
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("km", _("Khmer")), ("lo", _("Lao"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Phnom_Penh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploaded and generated files (approved PDFs, MoUs, receipts) are never served from a public
# media URL: views check permission and stream them. Local disk by default; an S3-compatible
# backend (django-storages) can be configured through STORAGES in production.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CCoP portal <noreply@example.org>")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint reports every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes says every failed login at INFO; lockouts stay (WARNING).
        "axes": {"level": "WARNING"},
    },
}

# Absolute links in e-mails (the portal's public address).
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
