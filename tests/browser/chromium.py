"""Which Chromium the browser tests drive.

Order: the CHROMIUM_PATH environment variable, /usr/bin/chromium (Debian's package), a
`chromium`, `chromium-browser` or `google-chrome` on PATH, then Playwright's own download. None
of them: `ChromiumNotFound`, which the conftest turns into a failure. Browser tests never skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

ENV_VAR = "CHROMIUM_PATH"
SYSTEM_PATHS = ("/usr/bin/chromium",)
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome")

# Flags for headless runs on CI machines and containers (see /work/shared/PITFALLS.md): no
# sandbox (containers run as root), no GPU, and no background traffic that would blur the
# byte counts of the pages under test.
LAUNCH_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

HOW_TO_GET_ONE = (
    "The browser tests need Chromium. Get one of:\n"
    "  - Debian/Ubuntu: apt-get install -y chromium   (.ci/run does this)\n"
    "  - Playwright's build: .venv/bin/playwright install chromium\n"
    "  - any Chromium or Chrome you have: export CHROMIUM_PATH=/path/to/chromium"
)


class ChromiumNotFound(RuntimeError):
    """No usable Chromium; the message says what was tried and how to get one."""


def _executable(path: str | os.PathLike[str] | None) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium(*, environ: Mapping[str, str] | None = None, bundled: str | None = None) -> str:
    """Path of the Chromium to launch.

    `bundled` is where Playwright keeps its own Chromium (`playwright.chromium.executable_path`),
    tried last. A CHROMIUM_PATH that names no executable is an error, not a reason to fall
    back to another browser: whoever set it meant that one.
    """
    environ = os.environ if environ is None else environ
    explicit = environ.get(ENV_VAR, "").strip()
    if explicit:
        if _executable(explicit):
            return explicit
        raise ChromiumNotFound(f"{ENV_VAR}={explicit} is not an executable file.\n{HOW_TO_GET_ONE}")

    tried = [f"{ENV_VAR} (not set)"]
    for path in SYSTEM_PATHS:
        if _executable(path):
            return path
        tried.append(path)
    for name in PATH_NAMES:
        found = shutil.which(name)
        if found and _executable(found):
            return found
        tried.append(f"{name} on PATH")
    if _executable(bundled):
        return str(bundled)
    tried.append(f"Playwright's Chromium ({bundled or 'unknown location'})")
    raise ChromiumNotFound("No Chromium found; tried " + ", ".join(tried) + ".\n" + HOW_TO_GET_ONE)
