"""Write one backup archive: the database dump, every stored file and a manifest.

    python manage.py backup /var/backups/ccop/            # a new dated archive in the folder
    python manage.py backup /var/backups/ccop/today.tar.gz

PostgreSQL is dumped with pg_dump (custom format), SQLite with its online backup API; see
ccop/backup.py for what the archive holds. Exits with status 1 (and writes nothing) on failure."""

from __future__ import annotations

from pathlib import Path

from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError

from ccop.backup import BackupError, backup_create, default_archive_name


class Command(BaseCommand):
    help = "Back up the database and the stored files (approved PDFs...) into one archive."

    def add_arguments(self, parser):
        parser.add_argument(
            "archive",
            help="archive to write (.tar.gz), or an existing folder to write a dated archive in",
        )
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument(
            "--media-root", help="folder of the stored files (default: the file storage, MEDIA_ROOT)"
        )

    def handle(self, *args, archive, database, media_root, **options):
        path = Path(archive)
        if path.is_dir():
            path = path / default_archive_name()
        storage = FileSystemStorage(location=media_root) if media_root else default_storage
        try:
            manifest = backup_create(path, storage=storage, using=database)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        rows = sum(manifest["row_counts"].values())
        size = sum(f["size"] for f in manifest["files"].values())
        self.stdout.write(
            f"{path}: {manifest['database']['vendor']} database, {len(manifest['row_counts'])} tables, "
            f"{rows} rows; {len(manifest['files'])} files, {size} bytes."
        )
        for name in manifest["missing_files"]:
            self.stderr.write(f"warning: the database names {name}, which is not in the file storage")
        if manifest["unreferenced_files"]:
            self.stdout.write(
                f"{len(manifest['unreferenced_files'])} stored files are not named by the database "
                "(kept in the archive)."
            )
        self.stdout.write(self.style.SUCCESS(f"Backup written: {path}"))
