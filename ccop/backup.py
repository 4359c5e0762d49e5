"""Backups: one archive holding the database and the stored files, and its restore.

The archive is a gzip'd tar file:

- `database.pgdump` (PostgreSQL, `pg_dump --format=custom`) or `database.sqlite3` (SQLite, a
  copy made with SQLite's online backup API), taken from one consistent snapshot;
- `media/<name>` for every file in the storage (approved PDFs, later MoUs and receipts);
- `manifest.json`: the format version, when and from what it was made, the applied Django
  migrations, the row count of every table, the SHA-256 and size of the database dump and of
  every file, and the files the database names that were missing from the storage.

The database is copied first, then the files: a file the database names was written before the
transaction that named it committed, so it is in the archive (files added meanwhile are too,
unreferenced, which is harmless).

`backup_restore` verifies every checksum before it touches anything, refuses a target database or
storage that is not empty unless told to replace it, restores, then checks the row counts and the
stored files' checksums against the manifest and reports what it restored.

The archive holds everything, password hashes and personal data included: keep it as private as
the database itself."""

from __future__ import annotations

import contextlib
import datetime
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import dj_database_url
import django
from django.apps import apps
from django.core.files import File
from django.core.files.storage import Storage
from django.db import connections, models
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "ccop-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in plain words."""


# --------------------------------------------------------------------------- database targets


@dataclass(frozen=True)
class Database:
    """Where a database is: SQLite (`name` is the file) or PostgreSQL (connection settings)."""

    vendor: str
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    options: dict = field(default_factory=dict)
    alias: str | None = None  # a Django connection alias, closed around a restore

    @classmethod
    def from_settings(cls, settings_dict: dict, alias: str | None = None) -> Database:
        engine = settings_dict.get("ENGINE", "")
        if engine.endswith("sqlite3"):
            vendor = "sqlite"
        elif engine.endswith(("postgresql", "postgis")):
            vendor = "postgresql"
        else:
            raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")
        return cls(
            vendor=vendor,
            name=str(settings_dict.get("NAME") or ""),
            host=str(settings_dict.get("HOST") or ""),
            port=str(settings_dict.get("PORT") or ""),
            user=str(settings_dict.get("USER") or ""),
            password=str(settings_dict.get("PASSWORD") or ""),
            options=dict(settings_dict.get("OPTIONS") or {}),
            alias=alias,
        )

    @classmethod
    def from_alias(cls, alias: str = "default") -> Database:
        return cls.from_settings(connections[alias].settings_dict, alias=alias)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls.from_settings(dj_database_url.parse(url))

    def describe(self) -> str:
        if self.vendor == "sqlite":
            return f"SQLite {self.name}"
        return f"PostgreSQL {self.name} on {self.host or 'localhost'}:{self.port or 5432}"

    # ----- PostgreSQL

    def pg_env(self) -> dict[str, str]:
        """libpq's environment for pg_dump / pg_restore (the password never on a command line)."""
        env = dict(os.environ)
        values = {
            "PGDATABASE": self.name,
            "PGHOST": self.host,
            "PGPORT": self.port,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGSSLMODE": str(self.options.get("sslmode", "")),
            "PGSERVICE": str(self.options.get("service", "")),
        }
        env.update({key: value for key, value in values.items() if value})
        return env

    def pg_connect(self):
        import psycopg2

        params = {"dbname": self.name, "host": self.host, "port": self.port, "user": self.user}
        params["password"] = self.password
        params.update({k: v for k, v in self.options.items() if k in {"sslmode", "service"}})
        return psycopg2.connect(**{k: v for k, v in params.items() if v})

    # ----- SQLite

    def sqlite_path(self) -> Path:
        if not self.name or self.name == ":memory:" or "mode=memory" in self.name:
            raise BackupError("An in-memory SQLite database cannot be restored into; name a file.")
        return Path(self.name)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} was not found. Install the PostgreSQL client tools of the server's version "
            "(Debian: apt-get install postgresql-client)."
        )
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BackupError(f"{Path(args[0]).name} failed (exit {result.returncode}):\n{tail}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _file_columns() -> list[tuple[str, str]]:
    """(table, column) of every FileField: the files the database names."""
    return [
        (model._meta.db_table, f.column)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, models.FileField)
    ]


@dataclass
class _Snapshot:
    row_counts: dict[str, int]
    migrations: list[list[str]]
    referenced_files: set[str]


def _read_snapshot(cursor, tables: list[str]) -> _Snapshot:
    """Row counts, applied migrations and named files, read through a DB-API cursor that sees
    the snapshot being archived."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - quoted catalogue names
        counts[table] = cursor.fetchone()[0]
    migrations = []
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [[app, name] for app, name in cursor.fetchall()]
    referenced = set()
    for table, column in _file_columns():
        if table in tables:
            cursor.execute(
                f"SELECT {_quote(column)} FROM {_quote(table)} "  # noqa: S608
                f"WHERE {_quote(column)} IS NOT NULL AND {_quote(column)} <> ''"
            )
            referenced.update(row[0] for row in cursor.fetchall())
    return _Snapshot(counts, migrations, referenced)


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [name for (name,) in rows]


PG_TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
)
PG_ANY_TABLE = (
    "SELECT COUNT(*) FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
)


def _dump_sqlite(alias: str, out: Path) -> _Snapshot:
    """Copy the live database with SQLite's online backup API (a consistent copy even while
    others write), then read the copy."""
    connection = connections[alias]
    connection.ensure_connection()
    target = sqlite3.connect(out)
    try:
        connection.connection.backup(target)
        return _read_snapshot(target.cursor(), _sqlite_tables(target))
    finally:
        target.close()


def _dump_postgresql(database: Database, out: Path) -> _Snapshot:
    """pg_dump (custom format) of a snapshot exported by a repeatable-read transaction, which
    also counts the rows, so the counts are exactly those of the dump."""
    pg_dump = _tool("pg_dump")
    connection = database.pg_connect()
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot_id}",
                    f"--file={out}",
                ],
                database.pg_env(),
            )
            cursor.execute(PG_TABLES)
            tables = [name for (name,) in cursor.fetchall()]
            return _read_snapshot(cursor, tables)
    finally:
        connection.rollback()
        connection.close()


# --------------------------------------------------------------------------- files


def storage_files(storage: Storage, path: str = "") -> Iterator[str]:
    """Every file name in the storage, recursively, sorted (an absent folder is empty)."""
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for directory in sorted(directories):
        yield from storage_files(storage, f"{path}/{directory}" if path else directory)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader:
    """Read a stream for tarfile while computing its SHA-256 and size."""

    def __init__(self, stream):
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.stream.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _safe_media_name(member_name: str) -> str | None:
    """The storage name of an archive member under media/, or None if the path is unsafe."""
    if not member_name.startswith(MEDIA_PREFIX):
        return None
    name = member_name[len(MEDIA_PREFIX) :]
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        return None
    return name


# --------------------------------------------------------------------------- backup


def backup_create(archive: str | os.PathLike, *, storage: Storage, using: str = "default") -> dict:
    """Write the archive (database, files, manifest) and return the manifest. The archive
    appears only once complete (written beside it, then renamed), readable by its owner only."""
    archive = Path(archive)
    if archive.exists():
        raise BackupError(f"{archive} already exists; choose a new name.")
    database = Database.from_alias(using)
    member = DATABASE_MEMBERS[database.vendor]
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccop-backup-") as scratch:
        dump = Path(scratch) / member
        if database.vendor == "sqlite":
            snapshot = _dump_sqlite(using, dump)
        else:
            snapshot = _dump_postgresql(database, dump)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "django_version": django.get_version(),
            "database": {
                "vendor": database.vendor,
                "member": member,
                "sha256": _sha256_file(dump),
                "size": dump.stat().st_size,
            },
            "migrations": snapshot.migrations,
            "row_counts": snapshot.row_counts,
            "files": {},
        }
        partial = archive.with_name(f".{archive.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                tar.add(dump, arcname=member, recursive=False)
                for name in storage_files(storage):
                    info = tarfile.TarInfo(MEDIA_PREFIX + name)
                    info.size = storage.size(name)
                    info.mtime = _modified(storage, name)
                    info.mode = 0o600
                    with storage.open(name, "rb") as stream:
                        reader = _HashingReader(stream)
                        tar.addfile(info, reader)
                    if reader.size != info.size:
                        raise BackupError(f"{name} changed while it was being archived; run again.")
                    manifest["files"][name] = {"sha256": reader.digest.hexdigest(), "size": reader.size}
                present = set(manifest["files"])
                manifest["missing_files"] = sorted(snapshot.referenced_files - present)
                manifest["unreferenced_files"] = sorted(present - snapshot.referenced_files)
                data = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o600
                tar.addfile(info, _BytesReader(data))
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, archive)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
    return manifest


def _modified(storage: Storage, name: str) -> int:
    try:
        return int(storage.get_modified_time(name).timestamp())
    except (NotImplementedError, OSError):
        return int(timezone.now().timestamp())


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.position = data, 0

    def read(self, n=-1):
        end = len(self.data) if n is None or n < 0 else self.position + n
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk


# --------------------------------------------------------------------------- restore


@dataclass
class RestoreReport:
    archive: str
    created_at: str
    database: str
    tables: int = 0
    rows: int = 0
    files: int = 0
    bytes: int = 0
    pending_migrations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"Restored {self.archive} (made {self.created_at}) into {self.database}:",
            f"  {self.tables} tables, {self.rows} rows (each table's count matches the manifest)",
            f"  {self.files} files, {self.bytes} bytes (each file's SHA-256 matches the manifest)",
        ]
        if self.pending_migrations:
            lines.append(
                f"  {len(self.pending_migrations)} migrations of this code are not in the backup: "
                "run `manage.py migrate`"
            )
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return lines


@dataclass
class _Unpacked:
    manifest: dict
    database: Path
    files: dict[str, Path]


def _unpack(archive: Path, scratch: Path) -> _Unpacked:
    """Extract the archive into `scratch` and check every member against the manifest. Raises
    BackupError listing every problem; nothing outside `scratch` is touched."""
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist.")
    extracted: dict[str, Path] = {}
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for index, member in enumerate(tar):
                if not member.isfile():
                    raise BackupError(f"{archive}: unexpected entry {member.name!r} (not a file).")
                if member.name in extracted:
                    raise BackupError(f"{archive}: {member.name!r} appears twice.")
                if member.name not in (MANIFEST, *DATABASE_MEMBERS.values()) and not _safe_media_name(
                    member.name
                ):
                    raise BackupError(f"{archive}: unexpected entry {member.name!r}.")
                path = scratch / f"member-{index}"
                with tar.extractfile(member) as source, path.open("wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
                extracted[member.name] = path
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"{archive} is not a complete backup archive ({exc}).") from exc
    if MANIFEST not in extracted:
        raise BackupError(f"{archive} has no {MANIFEST}: it is not a complete backup archive.")
    try:
        manifest = json.loads(extracted[MANIFEST].read_text("utf-8"))
    except ValueError as exc:
        raise BackupError(f"{archive}: {MANIFEST} is not readable ({exc}).") from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} is format {manifest.get('format')!r} version {manifest.get('format_version')!r}; "
            f"this code reads {FORMAT!r} version {FORMAT_VERSION}."
        )
    problems = []
    database = manifest["database"]
    dump = extracted.get(database["member"])
    if dump is None:
        problems.append(f"the database dump {database['member']} is missing")
    elif _sha256_file(dump) != database["sha256"]:
        problems.append(f"the database dump {database['member']} does not match its SHA-256")
    files = {}
    for name, expected in manifest["files"].items():
        path = extracted.get(MEDIA_PREFIX + name)
        if path is None:
            problems.append(f"the file {name} is missing")
        elif path.stat().st_size != expected["size"] or _sha256_file(path) != expected["sha256"]:
            problems.append(f"the file {name} does not match its SHA-256")
        else:
            files[name] = path
    extra = {n[len(MEDIA_PREFIX) :] for n in extracted if n.startswith(MEDIA_PREFIX)} - set(manifest["files"])
    problems += [f"the file {name} is not in the manifest" for name in sorted(extra)]
    if problems:
        raise BackupError(
            f"{archive} is damaged; nothing was restored:\n" + "\n".join(f"- {p}" for p in problems)
        )
    return _Unpacked(manifest, dump, files)


def backup_verify(archive: str | os.PathLike) -> dict:
    """Check the archive's every checksum; return its manifest. Touches nothing else."""
    with tempfile.TemporaryDirectory(prefix="ccop-restore-") as scratch:
        return _unpack(Path(archive), Path(scratch)).manifest


def database_is_empty(database: Database) -> bool:
    """True when the database has no tables at all (a freshly created database)."""
    if database.alias:
        return not connections[database.alias].introspection.table_names(include_views=True)
    if database.vendor == "sqlite":
        path = database.sqlite_path()
        if not path.exists() or path.stat().st_size == 0:
            return True
        connection = sqlite3.connect(path)
        try:
            return not _sqlite_tables(connection)
        finally:
            connection.close()
    connection = database.pg_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(PG_ANY_TABLE)
            return cursor.fetchone()[0] == 0
    finally:
        connection.close()


def _restore_sqlite(database: Database, dump: Path) -> _Snapshot:
    path = database.sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(dump), sqlite3.connect(path)
    try:
        source.backup(target)  # replaces the whole target database in one step
        return _read_snapshot(target.cursor(), _sqlite_tables(target))
    finally:
        source.close()
        target.close()


def _restore_postgresql(database: Database, dump: Path, replace: bool) -> _Snapshot:
    args = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",  # all or nothing
        f"--dbname={database.name}",
    ]
    if replace:
        args += ["--clean", "--if-exists"]
    _run([*args, str(dump)], database.pg_env())
    connection = database.pg_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(PG_TABLES)
            return _read_snapshot(cursor, [name for (name,) in cursor.fetchall()])
    finally:
        connection.close()


def _code_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def backup_restore(
    archive: str | os.PathLike, *, database: Database, storage: Storage, replace: bool = False
) -> RestoreReport:
    """Restore the archive into `database` and `storage`.

    Every checksum is verified first (a damaged archive raises BackupError and touches nothing).
    The database must have no tables and the storage no files, unless `replace` is True (then the
    archive's tables and files replace those of the same name). An archive made by newer code
    (migrations this code does not have) is refused unless `replace` is True. After restoring,
    every table's row count and every stored file's SHA-256 is checked against the manifest."""
    archive = Path(archive)
    with tempfile.TemporaryDirectory(prefix="ccop-restore-") as scratch:
        unpacked = _unpack(archive, Path(scratch))
        manifest = unpacked.manifest
        vendor = manifest["database"]["vendor"]
        if vendor != database.vendor:
            raise BackupError(
                f"{archive} holds a {vendor} database; it cannot be restored into {database.describe()}."
            )
        archived = {tuple(m) for m in manifest["migrations"]}
        code = _code_migrations()
        unknown = sorted(f"{app}.{name}" for app, name in archived - code)
        if unknown and not replace:
            raise BackupError(
                f"{archive} was made by a newer version of the portal (migrations unknown here: "
                f"{', '.join(unknown[:5])}{'…' if len(unknown) > 5 else ''}). Restore it with that "
                "version, or pass --force to restore anyway."
            )
        refusals = []
        if not replace and not database_is_empty(database):
            refusals.append(f"the database {database.describe()} is not empty")
        existing = list(storage_files(storage))
        if not replace and existing:
            refusals.append(f"the file storage already holds {len(existing)} files")
        if refusals:
            raise BackupError(
                "Nothing was restored: "
                + "; ".join(refusals)
                + ". Restore into an empty database and storage, or pass --force to replace what "
                "is there."
            )

        if database.alias:
            connections[database.alias].close()
        if vendor == "sqlite":
            restored = _restore_sqlite(database, unpacked.database)
        else:
            restored = _restore_postgresql(database, unpacked.database, replace)
        mismatched = [
            f"{table}: {restored.row_counts.get(table)} rows, the manifest says {count}"
            for table, count in manifest["row_counts"].items()
            if restored.row_counts.get(table) != count
        ]
        if mismatched:
            raise BackupError("The restored database does not match the manifest:\n" + "\n".join(mismatched))

        report = RestoreReport(
            archive=str(archive),
            created_at=manifest["created_at"],
            database=database.describe(),
            tables=len(manifest["row_counts"]),
            rows=sum(manifest["row_counts"].values()),
            pending_migrations=sorted(f"{app}.{name}" for app, name in code - archived),
        )
        for name, path in sorted(unpacked.files.items()):
            if replace and storage.exists(name):
                storage.delete(name)
            with path.open("rb") as stream:
                saved = storage.save(name, File(stream, name=name))
            if saved != name:
                raise BackupError(f"The storage saved {name} as {saved}; restore into an empty storage.")
            report.files += 1
            report.bytes += manifest["files"][name]["size"]
        stored = {}
        for name in manifest["files"]:
            with storage.open(name, "rb") as stream:
                digest = hashlib.sha256()
                for chunk in iter(lambda: stream.read(CHUNK), b""):  # noqa: B023
                    digest.update(chunk)
            stored[name] = digest.hexdigest()
        damaged = [n for n, expected in manifest["files"].items() if stored[n] != expected["sha256"]]
        if damaged:
            raise BackupError("Files differ from the manifest after restoring: " + ", ".join(damaged))
        if unknown:
            report.warnings.append("migrations unknown to this code: " + ", ".join(unknown))
        if manifest.get("missing_files"):
            report.warnings.append(
                "the database names files that were already missing when the backup was made: "
                + ", ".join(manifest["missing_files"])
            )
        leftovers = set(restored.row_counts) - set(manifest["row_counts"])
        if leftovers:
            report.warnings.append(
                "tables not in the backup were left as they were: " + ", ".join(sorted(leftovers))
            )
        if database.alias:
            connections[database.alias].close()
        return report


def default_archive_name(now: datetime.datetime | None = None) -> str:
    """ccop-backup-YYYYMMDD-HHMMSS.tar.gz in UTC."""
    now = now or timezone.now()
    return f"ccop-backup-{now.astimezone(datetime.UTC):%Y%m%d-%H%M%S}.tar.gz"
