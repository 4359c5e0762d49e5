import importlib
import os

import pytest
from django.db import connection


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}"


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
