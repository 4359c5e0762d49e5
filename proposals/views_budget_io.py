"""Budget spreadsheets in the portal: the blank template, a proposal's budget as the template,
the budget workbooks of a proposal and of a fund, and the template's import (upload, preview,
confirm).

Who: a proposal's workbook and template for those who may see the proposal (anyone else: 404);
a fund's workbook for the facilitators of the fund's programme and superusers (anyone else:
404); imports for those who may edit the proposal now (the service checks again).

Between the preview and the confirmation the checked rows wait in the session (stored on the
server, in the database), with the revision they were checked against: the confirmation posts
only a random token, so nothing the browser sends is trusted as budget data, and a change to the
proposal in between makes the import fail as stale instead of overwriting it."""

from __future__ import annotations

import secrets
import tempfile

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from ccop import money
from ccop.permissions import is_facilitator_of
from grants.models import Fund

from . import permissions, services, spreadsheets
from .models import BudgetLine
from .selectors import proposals_for_user
from .views import PortalLoginRequiredMixin, ProposalMixin

XLSX = spreadsheets.XLSX_CONTENT_TYPE
SESSION_KEY = "budget_import:{pk}"


def xlsx_response(write, filename: str) -> FileResponse:
    """Write the workbook to a temporary file and stream it from there (the file disappears
    when the response is closed)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        write(out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    response = FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- downloads


class BudgetTemplateView(PortalLoginRequiredMixin, View):
    """The blank budget template (every category and currency, no activities)."""

    http_method_names = ["get", "head"]

    def get(self, request):
        return xlsx_response(lambda out: spreadsheets.write_budget_template(out), "budget-template.xlsx")


class ProposalBudgetTemplateView(ProposalMixin, View):
    """A proposal's budget as the template: its lines, the fund's currencies and the proposal's
    activities in the lists. Edited and imported back, it gives the same budget to the cent."""

    http_method_names = ["get", "head"]

    def get(self, request, pk: int):
        proposal = self.get_proposal()
        activities = list(proposal.activities.all())
        lines = list(BudgetLine.objects.filter(proposal=proposal).order_by("order", "pk"))
        return xlsx_response(
            lambda out: spreadsheets.write_budget_template(
                out, currencies=proposal.fund.accepted_currency_list, activities=activities, lines=lines
            ),
            f"proposal-{proposal.pk}-budget-template.xlsx",
        )


class ProposalBudgetXlsxView(ProposalMixin, View):
    """One proposal's budget workbook: summary, lines, subtotals."""

    http_method_names = ["get", "head"]

    def get(self, request, pk: int):
        proposal = self.get_proposal()
        if not permissions.can_view_proposal(request.user, proposal):
            raise Http404
        proposals = proposals_for_user(request.user).filter(pk=proposal.pk)
        return xlsx_response(
            lambda out: spreadsheets.write_budget_workbook(
                out, fund=proposal.fund, proposals=proposals, fund_wide=False
            ),
            f"proposal-{proposal.pk}-budget-{timezone.localdate().isoformat()}.xlsx",
        )


class FundBudgetXlsxView(PortalLoginRequiredMixin, View):
    """A whole fund's budget workbook, for the facilitators of the fund's programme. Streams:
    lines are read in chunks and written as they come."""

    http_method_names = ["get", "head"]

    def get(self, request, pk: int):
        fund = get_object_or_404(Fund, pk=pk)
        if not is_facilitator_of(request.user, fund.country_programme_id):
            raise Http404
        proposals = proposals_for_user(request.user).filter(fund=fund)
        return xlsx_response(
            lambda out: spreadsheets.write_budget_workbook(
                out, fund=fund, proposals=proposals, fund_wide=True
            ),
            f"fund-{fund.pk}-budget-{timezone.localdate().isoformat()}.xlsx",
        )


# --------------------------------------------------------------------------- import


class BudgetUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Filled budget template (.xlsx, at most 5 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )


class BudgetConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    mode = forms.ChoiceField(
        label=gettext_lazy("What should the imported lines do?"),
        choices=[
            ("replace", gettext_lazy("Replace the current budget (its lines are removed)")),
            ("append", gettext_lazy("Add them after the current budget lines")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose whether to replace the budget or add to it.")},
    )


class ProposalBudgetImportView(ProposalMixin, View):
    """Upload a filled template, see every row and every error, confirm to save."""

    template_name = "proposals/budget_io/import.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        proposal = self.get_proposal()
        try:
            services.proposal_assert_editable(proposal=proposal, acting_user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("proposals:proposal-detail", pk=proposal.pk)
        return super().dispatch(request, *args, **kwargs)

    @property
    def session_key(self) -> str:
        return SESSION_KEY.format(pk=self.get_proposal().pk)

    def render_page(self, **context):
        proposal = self.get_proposal()
        return render(
            self.request,
            self.template_name,
            {
                "proposal": proposal,
                "line_count": proposal.budget_lines.count(),
                "max_rows": spreadsheets.MAX_ROWS,
                "columns": [heading for _key, heading in spreadsheets.TEMPLATE_COLUMNS],
                **context,
            },
        )

    def get(self, request, pk: int):
        request.session.pop(self.session_key, None)
        return self.render_page(form=BudgetUploadForm())

    def post(self, request, pk: int):
        if "token" in request.POST:
            return self.confirm()
        form = BudgetUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(form=form)
        proposal = self.get_proposal()
        preview = spreadsheets.read_budget_upload(form.cleaned_data["file"], proposal=proposal)
        if not preview.is_valid:
            request.session.pop(self.session_key, None)
            return self.render_page(form=BudgetUploadForm(), preview=preview)
        token = secrets.token_urlsafe(16)
        request.session[self.session_key] = {
            "token": token,
            "user": request.user.pk,
            "revision": proposal.revision,
            "filename": preview.filename,
            "sha256": preview.sha256,
            "rows": preview.rows,
        }
        return self.render_page(
            preview=preview,
            confirm=BudgetConfirmForm(initial={"token": token}),
            totals=self.totals(preview),
        )

    def confirm(self):
        request, proposal = self.request, self.get_proposal()
        stored = request.session.get(self.session_key)
        form = BudgetConfirmForm(request.POST)
        if (
            not stored
            or stored.get("user") != request.user.pk
            or not secrets.compare_digest(str(request.POST.get("token", "")), stored["token"])
        ):
            messages.error(request, _("This import has expired or was already saved. Upload the file again."))
            return redirect("proposals:proposal-budget-import", pk=proposal.pk)
        if not form.is_valid():
            preview = spreadsheets.BudgetImportPreview(
                filename=stored["filename"], sha256=stored["sha256"], rows=stored["rows"]
            )
            return self.render_page(preview=preview, confirm=form, totals=self.totals(preview))
        mode = form.cleaned_data["mode"]
        try:
            created = services.budget_import_apply(
                proposal=proposal,
                acting_user=request.user,
                rows=spreadsheets.preview_rows_for_service(stored["rows"]),
                mode=mode,
                expected_revision=stored["revision"],
                source=stored["filename"],
            )
        except ValidationError as exc:
            request.session.pop(self.session_key, None)
            for message in exc.messages:
                messages.error(request, message)
            return redirect("proposals:proposal-budget-import", pk=proposal.pk)
        request.session.pop(self.session_key, None)
        messages.success(
            request,
            (
                ngettext(
                    "%(n)s budget line imported; it replaces the previous budget.",
                    "%(n)s budget lines imported; they replace the previous budget.",
                    len(created),
                )
                if mode == "replace"
                else ngettext(
                    "%(n)s budget line imported and added to the budget.",
                    "%(n)s budget lines imported and added to the budget.",
                    len(created),
                )
            )
            % {"n": len(created)},
        )
        return redirect("proposals:proposal-detail", pk=proposal.pk)

    @staticmethod
    def totals(preview) -> list[str]:
        return [money.format_money(amount, c) for c, amount in sorted(preview.totals_by_currency().items())]
