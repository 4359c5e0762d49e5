"""Backup and restore (`manage.py backup`, `manage.py restore`, `ccop.backup`).

Real data through the services (an approved proposal with its rendered PDF, a draft in Khmer with
a second currency, history rows), a real archive, and a restore into a NEW EMPTY database (a
second SQLite file; on PostgreSQL a freshly created database, dropped afterwards) and an empty
media folder; then every table's rows (all columns) and every file's bytes are compared.

Transactional tests: pg_dump and SQLite's backup API see only committed data."""

from __future__ import annotations

import datetime
import gzip
import io
import json
import os
import tarfile
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from ccop import backup
from ccop.models import Membership, RightsholderGroup
from grants.models import Grant
from grants.services import grant_verify_pdf
from proposals import services
from proposals.models import BudgetLine, Proposal
from tests.factories import MembershipFactory, OrganisationFactory, ready_proposal, under_review

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KHMER = "សិក្ខាសាលាស្តីពីភាសាសញ្ញា"  # workshop on sign language
EXTRA_FILE = "uploads/ឯកសារ-notes.txt"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def seeded(media_root):
    """An approved proposal with its stored PDF, a Khmer draft with USD lines and a rate, a
    membership that ended, and one more stored file with a Khmer name."""
    proposal, staff, member = under_review(amount=Decimal("4200.00"))
    services.proposal_approve(proposal=proposal, acting_user=member, reasons="Relevant and feasible.")
    draft, draft_staff = ready_proposal(amount=Decimal("1234.56"))
    services.proposal_update(
        proposal=draft, acting_user=draft_staff[0], data={"title": KHMER, "provinces": "សៀមរាប"}
    )
    services.exchange_rate_set(
        proposal=draft, acting_user=draft_staff[0], currency="USD", rate=Decimal("0.92")
    )
    services.budget_line_add(
        proposal=draft,
        acting_user=draft_staff[0],
        category=BudgetLine.Category.TRAVEL,
        description="Tuk-tuk ការធ្វើដំណើរ",
        unit="trip",
        quantity=Decimal("12"),
        unit_cost=Decimal("7.50"),
        currency="USD",
    )
    MembershipFactory(
        cop=draft.cop,
        organisation=OrganisationFactory(country_programme=draft.cop.country_programme),
        left_on=datetime.date(2024, 12, 31),
    )
    default_storage.save(EXTRA_FILE, ContentFile("កំណត់ចំណាំ notes\n".encode()))
    grant = Grant.objects.get(proposal=proposal)
    assert grant.pdf and grant_verify_pdf(grant)
    return proposal


# --------------------------------------------------------------------------- empty targets


def _pg_admin():
    import psycopg2

    params = {**connection.get_connection_params(), "dbname": "postgres"}
    admin = psycopg2.connect(
        **{k: v for k, v in params.items() if k in {"dbname", "host", "port", "user", "password"} and v}
    )
    admin.autocommit = True
    return admin


@pytest.fixture
def empty_target(tmp_path):
    """A new, empty database of the same kind as the test database, and its URL."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored" / "db.sqlite3"
        yield backup.Database(vendor="sqlite", name=str(path)), f"sqlite:///{path}"
        return
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    settings_dict = {**connection.settings_dict, "NAME": name}
    target = backup.Database.from_settings(settings_dict)
    s = settings_dict
    url = (
        f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}"
    )
    try:
        yield target, url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# --------------------------------------------------------------------------- comparison


def _raw(target: backup.Database | None):
    """A DB-API connection made by Django's own backend (same type conversions on both sides)
    to the test database (None) or to `target`."""
    if target is None:
        connection.ensure_connection()
        return connection.connection, False
    key = "database" if connection.vendor == "sqlite" else "dbname"
    return connection.get_new_connection({**connection.get_connection_params(), key: target.name}), True


def database_contents(target: backup.Database | None = None) -> dict:
    """{table: (column names, sorted rows)} for every table, plus PostgreSQL's sequences."""
    raw, close = _raw(target)
    try:
        cursor = raw.cursor()
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute(backup.PG_TABLES)
        tables = sorted(name for (name,) in cursor.fetchall())
        contents = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            columns = tuple(d[0] for d in cursor.description)
            contents[table] = (columns, sorted(cursor.fetchall(), key=repr))
        if connection.vendor == "postgresql":
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename")
            contents["<sequences>"] = cursor.fetchall()
        cursor.close()
        return contents
    finally:
        if close:
            raw.close()


def media_contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- round trip


def test_backup_then_restore_into_a_new_empty_database_gives_every_row_and_file(
    seeded, media_root, empty_target, tmp_path
):
    target, url = empty_target
    archive = tmp_path / "backups" / "ccop.tar.gz"
    out = io.StringIO()
    call_command("backup", str(archive), stdout=out)
    assert "Backup written" in out.getvalue()
    assert archive.stat().st_mode & 0o077 == 0  # readable by its owner only

    before = database_contents()
    restored_media = tmp_path / "restored-media"
    out = io.StringIO()
    call_command("restore", str(archive), database_url=url, media_root=str(restored_media), stdout=out)
    report = out.getvalue()
    assert "Restore complete." in report
    assert f"{len(before) - (connection.vendor == 'postgresql')} tables" in report

    after = database_contents(target)
    assert after.keys() == before.keys()
    for table in before:
        assert after[table] == before[table], table
    assert before["proposals_proposal"][1] and before["grants_grant"][1]
    assert any(KHMER in row for row in before["proposals_proposal"][1])

    assert media_contents(restored_media) == media_contents(media_root)
    grant = Grant.objects.get(proposal=seeded)
    assert grant.pdf.name in media_contents(restored_media)
    assert EXTRA_FILE in media_contents(restored_media)


def test_the_manifest_lists_migrations_row_counts_and_file_checksums(seeded, media_root, tmp_path):
    archive = tmp_path / "ccop.tar.gz"
    manifest = backup.backup_create(archive, storage=default_storage)
    assert manifest == backup.backup_verify(archive)
    assert manifest["format"] == "ccop-backup" and manifest["format_version"] == backup.FORMAT_VERSION
    assert manifest["database"]["vendor"] == connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        assert manifest["migrations"] == [list(row) for row in cursor.fetchall()]
    assert manifest["row_counts"]["proposals_proposal"] == Proposal.objects.count() == 2
    assert manifest["row_counts"]["ccop_membership"] == Membership.objects.count()
    assert manifest["row_counts"]["ccop_rightsholdergroup"] == RightsholderGroup.objects.count() == 5
    assert manifest["row_counts"]["proposals_historicalproposal"] > 2
    grant = Grant.objects.get(proposal=seeded)
    assert manifest["files"][grant.pdf.name]["sha256"] == grant.pdf_sha256
    assert set(manifest["files"]) == {grant.pdf.name, EXTRA_FILE}
    assert manifest["missing_files"] == [] and manifest["unreferenced_files"] == [EXTRA_FILE]


def test_a_file_the_database_names_but_the_storage_lost_is_reported(seeded, media_root, tmp_path):
    grant = Grant.objects.get(proposal=seeded)
    default_storage.delete(grant.pdf.name)
    err = io.StringIO()
    call_command("backup", str(tmp_path / "a.tar.gz"), stdout=io.StringIO(), stderr=err)
    assert grant.pdf.name in err.getvalue()
    assert backup.backup_verify(tmp_path / "a.tar.gz")["missing_files"] == [grant.pdf.name]


def test_backup_into_a_folder_names_the_archive_by_date_and_never_overwrites(media_root, tmp_path):
    folder = tmp_path / "nightly"
    folder.mkdir()
    call_command("backup", str(folder), stdout=io.StringIO())
    (archive,) = folder.iterdir()
    assert archive.name.startswith("ccop-backup-") and archive.name.endswith(".tar.gz")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(archive), stdout=io.StringIO())
    assert list(folder.iterdir()) == [archive]  # no partial file left behind


# --------------------------------------------------------------------------- refusals


def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy the archive member by member, passing each member's bytes through `change`."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))


def _flip(data: bytes, at: int = 100) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def _assert_untouched(target: backup.Database, restored_media: Path) -> None:
    assert backup.database_is_empty(target)
    assert not restored_media.exists() or not any(restored_media.rglob("*"))


def test_a_damaged_file_in_the_archive_is_refused_and_nothing_is_restored(
    seeded, media_root, empty_target, tmp_path
):
    target, url = empty_target
    archive, damaged = tmp_path / "ok.tar.gz", tmp_path / "damaged.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    pdf_name = Grant.objects.get(proposal=seeded).pdf.name

    _rewrite(archive, damaged, lambda name, data: _flip(data) if name == "media/" + pdf_name else data)
    restored_media = tmp_path / "restored-media"
    with pytest.raises(CommandError) as excinfo:
        call_command("restore", str(damaged), database_url=url, media_root=str(restored_media))
    message = str(excinfo.value)
    assert "damaged; nothing was restored" in message
    assert f"the file {pdf_name} does not match its SHA-256" in message
    _assert_untouched(target, restored_media)
    with pytest.raises(CommandError, match="does not match its SHA-256"):
        call_command("restore", str(damaged), check=True)


def test_a_damaged_database_dump_or_a_cut_archive_is_refused(seeded, media_root, empty_target, tmp_path):
    target, url = empty_target
    archive = tmp_path / "ok.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    restored_media = tmp_path / "restored-media"

    damaged = tmp_path / "damaged-db.tar.gz"
    _rewrite(archive, damaged, lambda name, data: _flip(data) if name.startswith("database.") else data)
    with pytest.raises(CommandError, match=r"the database dump database\.\w+ does not match its SHA-256"):
        call_command("restore", str(damaged), database_url=url, media_root=str(restored_media))
    _assert_untouched(target, restored_media)

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CommandError, match="not a complete backup archive"):
        call_command("restore", str(cut), database_url=url, media_root=str(restored_media))
    _assert_untouched(target, restored_media)

    edited = tmp_path / "edited-manifest.tar.gz"

    def drop_a_file(name, data):
        if name != backup.MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["files"].pop(EXTRA_FILE)
        return json.dumps(manifest).encode()

    _rewrite(archive, edited, drop_a_file)
    with pytest.raises(CommandError, match="is not in the manifest"):
        call_command("restore", str(edited), database_url=url, media_root=str(restored_media))
    _assert_untouched(target, restored_media)


def test_an_archive_with_an_unsafe_path_is_refused(media_root, empty_target, tmp_path):
    target, url = empty_target
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("media/../../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(CommandError, match="unexpected entry"):
        call_command("restore", str(archive), database_url=url, media_root=str(tmp_path / "m"))
    assert not (tmp_path / "escaped.txt").exists()
    _assert_untouched(target, tmp_path / "m")


def test_restore_into_a_database_that_is_not_empty_is_refused_unless_forced(
    seeded, media_root, empty_target, tmp_path
):
    target, url = empty_target
    archive = tmp_path / "ccop.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    source_rows = database_contents()

    # The live database itself is not empty: refused, nothing changed.
    with pytest.raises(CommandError, match=r"Nothing was restored: the database .* is not empty"):
        call_command("restore", str(archive), media_root=str(tmp_path / "elsewhere"))
    assert database_contents() == source_rows

    restored_media = tmp_path / "restored-media"
    call_command(
        "restore", str(archive), database_url=url, media_root=str(restored_media), stdout=io.StringIO()
    )
    # A change in the restored copy, then a second restore: refused, the change is still there.
    raw, _close = _raw(target)
    raw.cursor().execute("UPDATE proposals_proposal SET title = 'changed after the restore'")
    raw.commit()
    raw.close()
    changed = database_contents(target)
    with pytest.raises(CommandError) as excinfo:
        call_command("restore", str(archive), database_url=url, media_root=str(restored_media))
    assert "is not empty" in str(excinfo.value) and "already holds 2 files" in str(excinfo.value)
    assert "--force" in str(excinfo.value)
    assert database_contents(target) == changed

    # Told to replace: the backup's rows and files come back exactly.
    os.remove(next(p for p in restored_media.rglob("*.pdf")))
    call_command(
        "restore",
        str(archive),
        database_url=url,
        media_root=str(restored_media),
        force=True,
        stdout=io.StringIO(),
    )
    assert database_contents(target) == source_rows
    assert media_contents(restored_media) == media_contents(media_root)


def test_an_archive_from_another_database_kind_is_refused(media_root, tmp_path):
    archive = tmp_path / "ccop.tar.gz"
    backup.backup_create(archive, storage=default_storage)
    other = (
        backup.Database(vendor="postgresql", name="nowhere", host="127.0.0.1")
        if connection.vendor == "sqlite"
        else backup.Database(vendor="sqlite", name=str(tmp_path / "x.sqlite3"))
    )
    with pytest.raises(backup.BackupError, match="cannot be restored into"):
        backup.backup_restore(archive, database=other, storage=default_storage)


def test_gzip_sanity_of_the_archive(media_root, tmp_path):
    """The archive is a plain .tar.gz: standard tools can list and extract it."""
    archive = tmp_path / "ccop.tar.gz"
    backup.backup_create(archive, storage=default_storage)
    with gzip.open(archive) as stream, tarfile.open(fileobj=stream) as tar:
        names = tar.getnames()
    assert backup.MANIFEST in names and backup.DATABASE_MEMBERS[connection.vendor] in names
