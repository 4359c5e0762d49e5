import os

import pytest
from django.db import connection


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}"


@pytest.fixture
def require_postgres():
    """Skip on SQLite with a reason; when CI says PostgreSQL is required, fail instead."""
    if connection.vendor != "postgresql":
        if os.environ.get("CCOP_REQUIRE_POSTGRES") == "1":
            pytest.fail("CCOP_REQUIRE_POSTGRES=1 but the tests are running on " + connection.vendor)
        pytest.skip("needs PostgreSQL (row locks); set DATABASE_URL=postgres://... to run it")
