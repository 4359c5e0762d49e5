"""The Chromium finder: no browser needed."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import chromium
from tests.browser.chromium import ChromiumNotFound, find_chromium

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_browser(tmp_path):
    def make(name="chromium"):
        path = tmp_path / name
        path.write_text("#!/bin/sh\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return str(path)

    return make


@pytest.fixture
def nothing_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(chromium, "SYSTEM_PATHS", (str(tmp_path / "no-usr-bin-chromium"),))
    monkeypatch.setattr(chromium.shutil, "which", lambda name: None)


def test_environment_variable_wins(fake_browser):
    path = fake_browser()
    assert find_chromium(environ={"CHROMIUM_PATH": path}, bundled=None) == path


def test_system_chromium_comes_next(monkeypatch, fake_browser):
    path = fake_browser()
    monkeypatch.setattr(chromium, "SYSTEM_PATHS", (path,))
    assert find_chromium(environ={}, bundled=fake_browser("bundled")) == path


def test_then_path(monkeypatch, nothing_installed, fake_browser):
    path = fake_browser("chromium-browser")
    monkeypatch.setattr(chromium.shutil, "which", lambda name: path if name == "chromium-browser" else None)
    assert find_chromium(environ={}, bundled=None) == path


def test_then_playwrights_own(nothing_installed, fake_browser):
    path = fake_browser("chrome")
    assert find_chromium(environ={}, bundled=path) == path


def test_none_fails_saying_how_to_get_one(nothing_installed, tmp_path):
    with pytest.raises(ChromiumNotFound) as error:
        find_chromium(environ={}, bundled=str(tmp_path / "ms-playwright" / "chrome"))
    message = str(error.value)
    assert "apt-get install -y chromium" in message
    assert "playwright install chromium" in message
    assert "CHROMIUM_PATH" in message
    assert "ms-playwright" in message  # says what it tried


def test_a_wrong_environment_variable_fails_rather_than_falling_back(tmp_path, fake_browser, monkeypatch):
    monkeypatch.setattr(chromium, "SYSTEM_PATHS", (fake_browser(),))  # would be found otherwise
    with pytest.raises(ChromiumNotFound, match="CHROMIUM_PATH=/nonexistent/chromium is not an executable"):
        find_chromium(environ={"CHROMIUM_PATH": "/nonexistent/chromium"}, bundled=None)


def test_a_file_that_is_not_executable_does_not_count(nothing_installed, tmp_path):
    path = tmp_path / "chromium"
    path.write_text("")
    os.chmod(path, 0o644)
    with pytest.raises(ChromiumNotFound):
        find_chromium(environ={"CHROMIUM_PATH": str(path)}, bundled=None)


def test_without_chromium_a_browser_test_fails_and_says_how_to_get_one(tmp_path):
    """End to end, in a subprocess: CHROMIUM_PATH unset, /usr/bin/chromium hidden (a plugin
    replaces the list of system paths), a PATH without browsers and an empty Playwright
    download folder. The browser test errors with the message; nothing is skipped."""
    (tmp_path / "hide_chromium.py").write_text(
        "import tests.browser.chromium as c\nc.SYSTEM_PATHS = ('/nonexistent/chromium',)\n"
    )
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "no-playwright-browsers"),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    # SQLite in the subprocess, so it cannot clash with this run's PostgreSQL test database.
    for name in ("CHROMIUM_PATH", "DATABASE_URL", "CCOP_REQUIRE_POSTGRES"):
        env.pop(name, None)
    command = [sys.executable, "-m", "pytest", "-p", "hide_chromium", "-p", "no:cacheprovider"]
    command += [
        "-p",
        "no:hypothesispytest",
        "--nomigrations",
        "-q",
        "-x",
        "tests/browser/test_pages_basic.py",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "No Chromium found" in output, output
    assert "apt-get install -y chromium" in output and "playwright install chromium" in output, output
    summary = output.strip().splitlines()[-1]
    assert "error" in summary and "skipped" not in summary and "passed" not in summary, summary
