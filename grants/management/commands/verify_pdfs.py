"""Verify every grant's stored approved PDF against the SHA-256 recorded at approval.

Prints each grant whose PDF differs, is missing from the storage or was never recorded, and ends
with a CommandError (exit status 1) when there is any; prints a one-line summary otherwise."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from grants.models import Grant
from grants.services import grant_stored_pdf_sha256


class Command(BaseCommand):
    help = "Verify stored approved PDFs against their recorded SHA-256 and list those that differ."

    def handle(self, *args, **options):
        checked = failed = 0
        for grant in Grant.objects.order_by("pk").iterator():
            checked += 1
            problem = self.problem(grant)
            if problem:
                failed += 1
                self.stdout.write(
                    f"grant {grant.pk} (proposal {grant.proposal_id}) {grant.pdf.name or '-'}: {problem}"
                )
        if failed:
            raise CommandError(f"{failed} of {checked} approved PDFs failed verification.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{checked} approved PDFs verified."))

    @staticmethod
    def problem(grant: Grant) -> str:
        if not grant.pdf or not grant.pdf_sha256:
            return "MISSING: no PDF recorded"
        stored = grant_stored_pdf_sha256(grant)
        if stored is None:
            return "MISSING: the file is not in the storage"
        if stored != grant.pdf_sha256:
            return f"DIFFERS: recorded {grant.pdf_sha256}, stored file {stored}"
        return ""
