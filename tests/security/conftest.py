"""Fixtures of the security tests: the scenario, built once per module inside a transaction that
is rolled back after the module's last test (each test then runs in a savepoint of it, as
pytest-django's `db` does), one logged-in client per role, and the matrix's size in the
terminal summary."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from django.db import transaction
from django.test import Client

from . import scenario as scenario_module
from .matrix import SIZES, Sender, database_digest


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not SIZES:
        return
    terminalreporter.section("permission matrix")
    for title, size in SIZES.items():
        if isinstance(size, str):
            terminalreporter.write_line(f"{title}: {size}")
            continue
        urls, roles, methods, cases = size
        terminalreporter.write_line(
            f"{title}: {urls} URLs × {roles} roles × {methods} methods = {urls * roles * methods} cases"
            + (f" ({cases} requested)" if cases != urls * roles * methods else "")
        )


def login(client: Client, user) -> Client:
    """A session for `user` as after a complete login: verified with their authenticator when
    they owe a code (tests/conftest.py does the same for function-scoped clients; the module's
    sessions here are made before its fixture applies)."""
    from ccop.accounts.two_factor import has_two_factor, two_factor_required
    from tests.two_factor import mark_session_verified

    client.force_login(user)
    if two_factor_required(user) or has_two_factor(user):
        mark_session_verified(client, user)
    return client


@pytest.fixture(scope="module")
def scenario(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        built = None
        try:
            built = scenario_module.build()
            yield built
        finally:
            if built is not None:
                for grant in (built.proposals["approved"].grant, built.proposals["b_approved"].grant):
                    if grant.pdf:
                        grant.pdf.storage.delete(grant.pdf.name)
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def role_sessions(scenario, django_db_blocker):
    """The session cookie of each role (None: anonymous), created once; each request restores it,
    so a logout or a message in one case never leaks into the next."""
    cookies = {}
    with django_db_blocker.unblock():
        for role, user in scenario.users.items():
            if user is None:
                cookies[role] = None
                continue
            client = login(Client(), user)
            cookies[role] = {name: morsel.value for name, morsel in client.cookies.items()}
    return cookies


@pytest.fixture(scope="module")
def baseline(scenario, role_sessions, django_db_blocker):
    """The database as every case starts from (each case's changes are rolled back)."""
    with django_db_blocker.unblock():
        return database_digest()


@pytest.fixture(scope="module")
def client_for(role_sessions):
    """The client of a role, holding only the role's session cookie. One client per role for the
    module: a new client loads the middleware again (whitenoise scans every static file)."""
    clients = {role: Client() for role in role_sessions}

    def make(role: str) -> Client:
        client = clients[role]
        client.cookies = SimpleCookie()
        for name, value in (role_sessions[role] or {}).items():
            client.cookies[name] = value
        return client

    return make


@pytest.fixture(scope="module")
def send_as(role_sessions, baseline):
    """send_as(role, method, path, data) -> Answer: one request as a role, rolled back after."""
    from .matrix import request_once

    send = Sender()

    def as_role(role: str, method: str, path: str, data: dict):
        return request_once(send, role_sessions[role], method, path, data, baseline)

    return as_role
