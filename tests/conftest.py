import importlib
import os

import pytest
from django.db import connection


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}"


# CCOP_SWEEP=required (CI's PostgreSQL run): the run fails unless the page sweep ran in every
# language (see tests/browser/conftest.py for the switch). Here, so that it holds whatever was
# collected.
SWEEP_LANGUAGES = ("en", "km", "lo")  # tests/browser/test_sweep.py LANGUAGES
SWEEP_TEST = "tests/browser/test_sweep.py::test_every_page_as_every_role"
_sweep_ran: set[str] = set()


def pytest_runtest_logreport(report):
    if report.nodeid.startswith(SWEEP_TEST) and report.when == "call":
        _sweep_ran.add(report.nodeid.rsplit("[", 1)[-1].rstrip("]").split("-")[-1])  # [chromium-km]


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CCOP_SWEEP") != "required":
        return
    missing = [language for language in SWEEP_LANGUAGES if language not in _sweep_ran]
    if missing:
        session.config._ccop_sweep_missing = missing
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    missing = getattr(terminalreporter.config, "_ccop_sweep_missing", None)
    if missing:
        terminalreporter.write_line(
            f"FAILED: CCOP_SWEEP=required but the page sweep did not run in {', '.join(missing)} "
            f"({SWEEP_TEST})",
            red=True,
        )


@pytest.fixture(scope="session", autouse=True)
def _static_files():
    """Hashed, compressed static files in STATIC_ROOT before any page renders (see
    tests/staticfiles.py)."""
    from tests.staticfiles import ensure_collected

    ensure_collected()


@pytest.fixture
def require_postgres():
    """Skip on SQLite with a reason; when CI says PostgreSQL is required, fail instead."""
    if connection.vendor != "postgresql":
        if os.environ.get("CCOP_REQUIRE_POSTGRES") == "1":
            pytest.fail("CCOP_REQUIRE_POSTGRES=1 but the tests are running on " + connection.vendor)
        pytest.skip("needs PostgreSQL (row locks); set DATABASE_URL=postgres://... to run it")


@pytest.fixture(autouse=True)
def _reference_data(request):
    """The five rightsholder groups come from a data migration. A transactional test (browser,
    concurrency) flushes the database at its end; put them back before each such test, whatever
    ran before it (serialized rollback alone depends on the order pytest-django picks)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    importlib.import_module("ccop.migrations.0002_rightsholder_groups").create_groups(apps, None)


# --- two-step login -------------------------------------------------------------------------
# Committee members, facilitators and admin users must pass two-step login (ccop/accounts):
# a session that has not typed a code reaches nothing but the code pages, in the portal and in
# the admin. Tests that log someone in with `client.force_login(user)` mean "this person, logged
# in normally": for anyone who owes a code (their role, or they turned two-step login on),
# force_login here also gives them a confirmed authenticator (when missing) and marks the
# session verified exactly as django_otp.login does after a right code
# (tests/two_factor.mark_session_verified). To test the code pages themselves, log in through
# the real login page instead (tests/ccop/test_two_factor.py), or call
# `force_login_without_two_factor(client, user)` for a session that still owes its code.
# Browser tests log in through the pages (tests/browser/helpers.login types the code).
# `client.login()` cannot be used: django-axes needs the request to throttle logins.


def force_login_without_two_factor(client, user, backend=None):
    from django.test import Client

    _django_force_login = getattr(Client.force_login, "django_original", Client.force_login)
    _django_force_login(client, user, backend)


@pytest.fixture(autouse=True)
def _force_login_passes_two_factor(monkeypatch):
    from django.test import Client

    from ccop.accounts.two_factor import has_two_factor, two_factor_required
    from tests.two_factor import mark_session_verified

    original = getattr(Client.force_login, "django_original", Client.force_login)

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if two_factor_required(user) or has_two_factor(user):
            mark_session_verified(self, user)

    force_login.django_original = original
    monkeypatch.setattr(Client, "force_login", force_login)
