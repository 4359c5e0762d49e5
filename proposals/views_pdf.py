"""The proposal PDFs: the official PDF of an approved proposal, served from storage as it was
stored at approval (never rendered again), and the DRAFT preview of one not yet approved,
rendered on the fly. Both only to people who may see the proposal (anyone else: 404), never
from a public media URL."""

from __future__ import annotations

import logging

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views import View

from . import pdf
from .models import Proposal
from .selectors import proposals_for_user
from .services import proposal_content_digest, proposal_snapshot

logger = logging.getLogger(__name__)


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class ProposalPdfView(LoginRequiredMixin, View):
    """Download the stored official PDF of an approved proposal."""

    http_method_names = ["get", "head"]

    def get(self, request, pk: int):
        proposal = get_object_or_404(
            proposals_for_user(request.user).select_related("grant"), pk=pk, status=Proposal.Status.APPROVED
        )
        grant = getattr(proposal, "grant", None)
        if grant is None or not grant.pdf:
            logger.error("Approved proposal %s has no stored PDF", proposal.pk)
            raise Http404("No PDF is stored for this proposal.")
        try:
            stored = grant.pdf.storage.open(grant.pdf.name, "rb")
        except OSError as exc:
            logger.error("The stored PDF of proposal %s cannot be read: %s", proposal.pk, exc)
            raise Http404("The PDF of this proposal cannot be found.") from exc
        response = FileResponse(
            stored,
            as_attachment=True,
            filename=f"proposal-{proposal.pk}-approved.pdf",
            content_type="application/pdf",
        )
        response["ETag"] = f'"{grant.pdf_sha256}"'
        return _private(response)


class ProposalPreviewPdfView(LoginRequiredMixin, View):
    """A preview of a proposal that is not approved, marked DRAFT on every page."""

    http_method_names = ["get", "head"]

    def get(self, request, pk: int):
        proposal = get_object_or_404(proposals_for_user(request.user), pk=pk)
        if proposal.status == Proposal.Status.APPROVED:
            return redirect("proposals:proposal-pdf", pk=proposal.pk)
        content = pdf.render_proposal_pdf(
            proposal=proposal,
            snapshot=proposal_snapshot(proposal),
            draft=True,
            content_sha256=proposal_content_digest(proposal),
        )
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=False, filename=f"proposal-{proposal.pk}-draft.pdf"
        )
        return _private(response)
