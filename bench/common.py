"""What the bench scripts share: their PostgreSQL databases, child processes with Django set up
on one of them, the machine's description and load."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "ccop_bench")


def database_url(name: str) -> str:
    return f"{SERVER}/{PREFIX}_{name}"


def recreate_database(name: str) -> str:
    """An empty database `<prefix>_<name>` (dropped first if it exists), migrated."""
    import psycopg2

    db = f"{PREFIX}_{name}"
    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{db}"')
    connection.close()
    url = database_url(name)
    manage(url, "migrate", "--noinput", "-v0")
    return url


def database_exists(name: str) -> bool:
    import psycopg2

    connection = psycopg2.connect(f"{SERVER}/postgres")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"{PREFIX}_{name}"])
        found = cursor.fetchone() is not None
    connection.close()
    return found


def env_for(url: str, settings: str = "bench.settings") -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": settings,
        "PYTHONPATH": str(ROOT),
    }


def manage(url: str, *args: str) -> str:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env_for(url),
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout


def child_json(script: str, url: str | None, *args: str, timeout: int = 3600) -> dict | list:
    """Run `bench/<script>` in a process of its own and read the JSON on its last line."""
    env = env_for(url) if url else {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(  # noqa: S603 - our own scripts
        [sys.executable, str(ROOT / "bench" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench/{script} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
