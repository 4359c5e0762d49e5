"""Restore a backup archive written by `manage.py backup`.

    python manage.py restore ARCHIVE --check                 # verify every checksum, touch nothing
    python manage.py restore ARCHIVE                         # into the configured database and MEDIA_ROOT
    python manage.py restore ARCHIVE --database-url postgres://.../ccop_restored --media-root /srv/media-restored

Every checksum is verified before anything is written. The target database must have no tables
and the file storage no files, unless --force (the archive's tables and files then replace
those of the same name). Afterwards each table's row count and each file's SHA-256 are checked
against the manifest. Exits with status 1 on any refusal or failure."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError

from ccop.backup import BackupError, Database, backup_restore, backup_verify


class Command(BaseCommand):
    help = "Restore the database and the stored files from a backup archive (into empty ones)."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--database", default="default", help="database alias (default: default)")
        target.add_argument("--database-url", help="restore into this database instead (e.g. a fresh one)")
        parser.add_argument("--media-root", help="folder to restore the files into (default: MEDIA_ROOT)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore even into a database or storage that is not empty, replacing what the archive holds",
        )
        parser.add_argument("--check", action="store_true", help="only verify the archive's checksums")

    def handle(self, *args, archive, database, database_url, media_root, force, check, **options):
        try:
            if check:
                manifest = backup_verify(archive)
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{archive}: intact ({manifest['database']['vendor']} database made "
                        f"{manifest['created_at']}, {len(manifest['row_counts'])} tables, "
                        f"{len(manifest['files'])} files)."
                    )
                )
                return
            target = Database.from_url(database_url) if database_url else Database.from_alias(database)
            storage = FileSystemStorage(location=media_root) if media_root else default_storage
            report = backup_restore(archive, database=target, storage=storage, replace=force)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Restore complete."))
