"""p50 and p95 under load: gunicorn (2 sync workers) on PostgreSQL's scale dataset, 10 clients on
loopback, each main page next to the floor view (bench/urls.py: logged in, one query, a minimal
template, the same middleware), and each page's p95 as a multiple of the floor's.

    .venv/bin/python bench/load.py [--requests 100] [--seconds 40]

Each page in turn gets 10 concurrent clients until `--requests` answers or `--seconds` have
passed (at least 20 answers); the floor is measured first and last, and the lower of its two p95
is the reference (the machine is shared: a busy moment should not flatter the pages). Needs the
scale database (bench/run.py makes it)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

CLIENTS = 10
WORKERS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sessions_and_pages() -> list[dict]:
    """A logged-in session (two-step login passed) for each role, and the pages to load."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.urls import reverse
    from django_otp import DEVICE_ID_SESSION_KEY

    from tests import page_census
    from tests.two_factor import totp_device

    scenario = page_census.scenario()
    people = page_census.roles(scenario)

    def cookie(user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        if user.is_staff or user.is_superuser:
            store[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        store.create()
        return f"{settings.SESSION_COOKIE_NAME}={store.session_key}; {settings.LANGUAGE_COOKIE_NAME}=en"

    cookies = {role: cookie(user) for role, user in people.items() if user is not None}
    draft, approved = scenario.draft, scenario.approved
    pages = [
        ("floor view", "committee member", reverse("bench-floor")),
        ("home", "committee member", reverse("home")),
        ("home", "grantee staff", reverse("home")),
        ("home", "facilitator", reverse("home")),
        ("proposal list", "committee member", reverse("proposals:proposal-list")),
        (
            "proposal detail, 300 lines",
            "grantee staff",
            reverse("proposals:proposal-detail", args=[draft.pk]),
        ),
        ("proposal edit, 300 lines", "grantee staff", reverse("proposals:proposal-edit", args=[draft.pk])),
        ("audit trail", "facilitator", reverse("audit-trail")),
        ("admin proposal list", "committee member", reverse("admin:proposals_proposal_changelist")),
        (
            "admin proposal change, 300 lines",
            "committee member",
            reverse("admin:proposals_proposal_change", args=[approved.pk]),
        ),
        ("floor view", "committee member", reverse("bench-floor")),
    ]
    return [{"page": p, "role": r, "url": u, "cookie": cookies[r]} for p, r, u in pages]


def fetch(port: int, url: str, cookie: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", url, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return time.perf_counter() - started, response.status, len(body)


def load(port: int, page: dict, requests: int, seconds: float) -> dict:
    for _ in range(3):  # warm-up: both workers, caches
        fetch(port, page["url"], page["cookie"])
    latencies, statuses, lock = [], [], threading.Lock()
    deadline = time.perf_counter() + seconds

    def client():
        while True:
            with lock:
                if len(latencies) >= requests or (time.perf_counter() > deadline and len(latencies) >= 20):
                    return
            took, status, size = fetch(port, page["url"], page["cookie"])
            with lock:
                latencies.append(took)
                statuses.append(status)
                page["bytes"] = size

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        **{k: v for k, v in page.items() if k != "cookie"},
        "n": len(latencies),
        "errors": sum(1 for s in statuses if s != 200),
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, round(0.95 * len(latencies)) - 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=40)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or common.database_url("scale")
    os.environ["DATABASE_URL"] = url
    common.setup_django()
    pages = sessions_and_pages()
    from django.db import connection

    connection.close()

    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - gunicorn from our venv
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "ccop.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        env={**common.env_for(url), "DJANGO_SETTINGS_MODULE": "bench.settings"},
        cwd=common.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                fetch(port, "/accounts/login/", "")
                break
            except OSError:
                time.sleep(0.2)
        results = [load(port, page, args.requests, args.seconds) for page in pages]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(json.dumps({"results": results, "load_average": common.load_average()}))


if __name__ == "__main__":
    main()
