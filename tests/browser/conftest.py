"""Browser tests: Playwright (pytest-playwright) driving Chromium against pytest-django's
live_server. Helpers to import are in tests/browser/helpers.py.

Fixtures here, besides pytest-playwright's `page`, `context`, `browser` and pytest-django's
`live_server`:
- `base_url` (str): the live server's URL, so `page.goto("/accounts/login/")` works.
- `viewport` (dict, default DESKTOP): the size of the page; parametrize it, e.g. with
  `@helpers.each_viewport`, to run a test at 360 and 1280 px.
- `browser_locale` (str, default "en"): the browser's language, sent as Accept-Language.
- `bytes_transferred` (helpers.BytesRecorder): bytes the page receives, recording from the start.

Every test here that uses `page` or `live_server` is marked `browser` and runs against a
transactional database with serialized rollback, so the rows the migrations create (rightsholder
groups) are there in each test and in the tests that run after it.

The page sweep (test_sweep.py, about a third of CI's time) checks pages, not storage, so CI runs
it once, in the PostgreSQL run. The switch is the environment variable CCOP_SWEEP:
- unset: the sweep runs (a developer's `make test`);
- `skip`: the sweep's page visits are skipped, with that reason in pytest's summary (CI's SQLite
  run; the check that every URL pattern has a sweep kind still runs);
- `required`: the run fails unless the sweep ran in every language (CI's PostgreSQL run), so a
  filter, a rename or a skip cannot make CI pass without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .chromium import LAUNCH_FLAGS, ChromiumNotFound, find_chromium
from .helpers import DESKTOP, BytesRecorder

# Playwright's sync API keeps an event loop in the main thread for the rest of the session, and
# Django refuses ORM calls next to a running loop. Needed for every test that runs after the
# first browser test, so set for the process, not per test.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).parent
# Pages come from a server on this machine: a wait longer than this is a failure, and failing
# sooner than Playwright's 30 s default keeps a broken run short.
ACTION_TIMEOUT_MS = 10_000
BROWSER_FIXTURES = {"page", "context", "new_context", "browser", "live_server", "bytes_transferred"}
SWEEP_SWITCH = "CCOP_SWEEP"  # see the module docstring; `required` is checked in tests/conftest.py
SWEEP_TEST = "test_sweep.py::test_every_page_as_every_role"


def _is_sweep(nodeid: str) -> bool:
    return SWEEP_TEST in nodeid


def pytest_collection_modifyitems(config, items):
    if os.environ.get(SWEEP_SWITCH) == "skip":
        reason = f"{SWEEP_SWITCH}=skip: the page sweep runs once in CI, in the PostgreSQL run (.ci/run)"
        for item in items:
            if _is_sweep(item.nodeid):
                item.add_marker(pytest.mark.skip(reason=reason))
    for item in items:
        if HERE not in Path(item.path).parents or not BROWSER_FIXTURES & set(item.fixturenames):
            continue
        if not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
        if not item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="session")
def chromium_executable(playwright) -> str:
    """The Chromium every browser test launches (see chromium.py); fails when there is none."""
    try:
        return find_chromium(bundled=playwright.chromium.executable_path)
    except ChromiumNotFound as error:
        message = str(error)
    pytest.fail(message, pytrace=False)  # outside `except`: the message alone, no chained traceback


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_name, chromium_executable) -> dict:
    if browser_name != "chromium":
        return browser_type_launch_args
    flags = [
        f
        for f in LAUNCH_FLAGS
        if not (f == "--headless" and browser_type_launch_args.get("headless") is False)
    ]
    return {**browser_type_launch_args, "executable_path": chromium_executable, "args": flags}


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, but static files come through the portal's own middleware
    (whitenoise serving the collected, hashed, compressed files with their cache headers), as in
    production. pytest-django would put Django's StaticFilesHandler in front, which serves the
    source files uncompressed, without cache headers, so byte budgets would measure nothing real.
    """
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = _no_static_handler
    server.start()
    yield server
    server.stop()


def _no_static_handler(application):
    return application


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative URLs go to the live server: page.goto("/accounts/login/"). (Also replaces
    pytest-playwright's own base_url fixture, which pytest 9 warns about.)"""
    return live_server.url


@pytest.fixture
def viewport() -> dict:
    return DESKTOP


@pytest.fixture
def browser_locale() -> str:
    return "en"


@pytest.fixture
def context(new_context, viewport, browser_locale):
    # Reduced motion: Bootstrap then drops its colour transitions, so axe never measures the
    # contrast of a button halfway through one.
    context = new_context(viewport=viewport, locale=browser_locale, reduced_motion="reduce")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


@pytest.fixture
def bytes_transferred(page) -> BytesRecorder:
    return BytesRecorder(page)


def pytest_terminal_summary(terminalreporter):
    """The accessibility sweep's figures (test_sweep.py), shown without -s."""
    from .test_sweep import SUMMARIES

    for line in SUMMARIES:
        terminalreporter.write_line(line)
