"""Portal pages of activity reports, their photos, outputs and lessons. Every object comes
through the scoped selectors (another organisation's or programme's id answers 404); every change
through `activities.services`, whose refusals become messages, never a server error."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from ccop import money
from ccop.models import RightsholderGroup
from proposals.views import PortalLoginRequiredMixin

from . import permissions, selectors, services, uploads
from .forms import (
    LessonForm,
    OutputForm,
    PhotoFormSet,
    RemovePhotosForm,
    ReportForm,
    ReviewForm,
    StakeholderFormSet,
)
from .models import ActivityReport, Output, ReportPhoto


def _run(request, action, success: str) -> bool:
    """Call a service; its refusal becomes error messages."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


class ReportMixin(PortalLoginRequiredMixin):
    """The report of the URL, among those the person may see (404 otherwise, never 403)."""

    def get_report(self) -> ActivityReport:
        if not hasattr(self, "_report"):
            try:
                self._report = selectors.report_page(self.kwargs["pk"], self.request.user)
            except ActivityReport.DoesNotExist as exc:
                raise Http404 from exc
        return self._report

    def to_detail(self):
        return redirect("activities:report-detail", pk=self.get_report().pk)


# --------------------------------------------------------------------------- lists


class ReportListView(PortalLoginRequiredMixin, ListView):
    template_name = "activities/report_list.html"
    context_object_name = "reports"
    paginate_by = 50

    def get_queryset(self):
        return selectors.reports_for_user(self.request.user).order_by("-starts_on", "-pk")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            grants=list(selectors.grants_for_user(self.request.user).order_by("-approved_at")[:50]),
            fileable={g.pk for g in selectors.grants_open_to_reports_by(self.request.user)},
            **kwargs,
        )


class GrantReportsView(PortalLoginRequiredMixin, TemplateView):
    """A grant's activities: each planned activity with its reports, expected versus actual
    participants per rightsholder group, and the way to file a report."""

    template_name = "activities/grant_reports.html"

    def get_context_data(self, **kwargs):
        grant = get_object_or_404(selectors.grants_for_user(self.request.user), pk=self.kwargs["pk"])
        return super().get_context_data(
            grant=grant,
            amount=money.format_money(grant.amount, grant.currency),
            planned=selectors.planned_vs_delivered(grant, self.request.user),
            can_file=permissions.can_file_report(self.request.user, grant),
            **kwargs,
        )


# --------------------------------------------------------------------------- filing and editing


class ReportFormMixin:
    """The report form with its stakeholders and photo slots, shared by the create and edit
    pages; saved in one transaction (files stored by a failed save are removed again)."""

    template_name = "activities/report_form.html"

    def forms(self, grant, report=None, data=None, files=None):
        groups = list(RightsholderGroup.objects.all())
        initial = stakeholders = None
        if report is not None:
            initial = {name: getattr(report, name) for name in services.REPORT_FIELDS}
            initial.update(
                {f"group_{p.rightsholder_group.code}": p.number for p in report.participants.all()}
            )
            stakeholders = [{"kind": s.kind, "name": s.name} for s in report.stakeholders.all()]
        return {
            "form": ReportForm(data, grant=grant, groups=groups, initial=initial),
            "stakeholders": StakeholderFormSet(data, prefix="stakeholders", initial=stakeholders),
            "photos": PhotoFormSet(data, files, prefix="photos"),
            "remove": RemovePhotosForm(
                data, photos=list(report.photos.all()) if report else [], prefix="photos-old"
            ),
        }

    def render_forms(self, grant, forms, report=None):
        return render(
            self.request,
            self.template_name,
            {
                "grant": grant,
                "report": report,
                **forms,
                "max_photos": services.MAX_PHOTOS,
                # a browser cannot put chosen files back into a page: say so when some were sent
                "photos_lost": bool(self.request.FILES),
            },
        )

    def save(self, grant, forms, report=None):
        """Create or update the report, then its photos; any refusal rolls all back."""
        form, user = forms["form"], self.request.user
        with uploads.discard_on_error(), transaction.atomic():
            kwargs = {
                **form.report_fields(),
                "groups": form.group_numbers(),
                "stakeholders": forms["stakeholders"].rows(),
                "acting_user": user,
            }
            if report is None:
                report = services.report_create(grant=grant, **kwargs)
            else:
                report = services.report_update(report=report, **kwargs)
            for photo in forms["remove"].chosen():
                services.photo_remove(photo=photo, acting_user=user)
            for photo_form in forms["photos"]:
                if photo_form.cleaned_data.get("photo"):
                    services.photo_add(
                        report=report,
                        acting_user=user,
                        upload=photo_form.cleaned_data["photo"],
                        description=photo_form.cleaned_data["description"],
                    )
        return report

    def post_forms(self, grant, report=None):
        forms = self.forms(grant, report, self.request.POST, self.request.FILES)
        if not all(f.is_valid() for f in forms.values()):
            return None, self.render_forms(grant, forms, report)
        try:
            saved = self.save(grant, forms, report)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                forms["form"].add_service_errors(exc)
            else:
                forms["form"].add_error(None, exc)
            return None, self.render_forms(grant, forms, report)
        return saved, None


class ReportCreateView(ReportFormMixin, PortalLoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.grant = get_object_or_404(selectors.grants_for_user(request.user), pk=kwargs["pk"])
        if not permissions.can_file_report(request.user, self.grant):
            messages.info(
                request, _("Only staff of the CoP's member organisations can report its activities.")
            )
            return redirect("activities:grant-reports", pk=self.grant.pk)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return self.render_forms(self.grant, self.forms(self.grant))

    def post(self, request, pk):
        report, failed = self.post_forms(self.grant)
        if failed:
            return failed
        messages.success(request, _("Report saved as a draft. Submit it when it is complete."))
        return redirect("activities:report-detail", pk=report.pk)


class ReportEditView(ReportFormMixin, ReportMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        report = self.get_report()
        if not permissions.can_edit_report(request.user, report):
            if report.status not in permissions.EDITABLE or report.grant_id is None:
                messages.info(
                    request,
                    _("This report is %(status)s and can no longer be changed.")
                    % {"status": report.get_status_display().lower()},
                )
            else:
                messages.info(
                    request, _("Only staff of the CoP's member organisations can change its reports.")
                )
            return self.to_detail()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        report = self.get_report()
        return self.render_forms(report.grant, self.forms(report.grant, report), report)

    def post(self, request, pk):
        report = self.get_report()
        saved, failed = self.post_forms(report.grant, report)
        if failed:
            return failed
        messages.success(request, _("Report saved."))
        return redirect("activities:report-detail", pk=saved.pk)


# --------------------------------------------------------------------------- reading and the workflow


class ReportDetailView(ReportMixin, TemplateView):
    template_name = "activities/report_detail.html"

    def get_context_data(self, **kwargs):
        report, user = self.get_report(), self.request.user
        can_edit = permissions.can_edit_report(user, report)
        return super().get_context_data(
            report=report,
            send_back=selectors.latest_send_back(report),
            can_edit=can_edit,
            problems=services.report_submission_problems(report) if can_edit else [],
            can_review=permissions.can_review_report(user, report),
            can_publish=permissions.can_publish_report(user, report),
            can_add=report.grant_id is not None and permissions.can_add_results(user, report.cop_id),
            review_form=ReviewForm(),
            **kwargs,
        )


class ReportSubmitView(ReportMixin, View):
    def post(self, request, pk):
        report = self.get_report()
        _run(
            request,
            lambda: services.report_submit(report=report, acting_user=request.user),
            _("Report submitted to the facilitators."),
        )
        return self.to_detail()


class ReportReviewView(ReportMixin, View):
    """The facilitator accepts the report or sends it back with a comment."""

    def post(self, request, pk):
        report = self.get_report()
        form = ReviewForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose to accept or to send back."))
            return self.to_detail()
        comment = form.cleaned_data["comment"]
        if form.cleaned_data["decision"] == "accept":
            _run(
                request,
                lambda: services.report_accept(report=report, acting_user=request.user, comment=comment),
                _("Report accepted."),
            )
        else:
            _run(
                request,
                lambda: services.report_send_back(report=report, acting_user=request.user, comment=comment),
                _("Report sent back to the CoP."),
            )
        return self.to_detail()


class ReportPublishView(ReportMixin, View):
    def post(self, request, pk):
        report = self.get_report()
        _run(
            request,
            lambda: services.report_publish(report=report, acting_user=request.user),
            _("Report published."),
        )
        return self.to_detail()


# --------------------------------------------------------------------------- files


def _private_file(request, field, content_type: str, etag: str, filename: str = ""):
    """A stored file for someone allowed to see it: never cached by a shared cache, revalidated
    by the browser each time (so losing access takes effect), 304 when unchanged."""
    if etag and request.headers.get("If-None-Match") == f'"{etag}"':
        response = HttpResponseNotModified()
    else:
        try:
            handle = field.storage.open(field.name, "rb")
        except OSError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle, content_type=content_type, as_attachment=bool(filename), filename=filename
        )
    response["Cache-Control"] = "private, no-cache"
    if etag:
        response["ETag"] = f'"{etag}"'
    return response


class PhotoView(PortalLoginRequiredMixin, View):
    """A report's photo (`?size=small` for the small copy), to those who may see the report."""

    def get(self, request, pk):
        photo = get_object_or_404(ReportPhoto.objects.visible_to(request.user), pk=pk)
        small = request.GET.get("size") == "small"
        field = photo.thumbnail if small else photo.file
        return _private_file(request, field, "image/jpeg", f"{photo.sha256[:32]}{'-s' if small else ''}")


class OutputFileView(PortalLoginRequiredMixin, View):
    def get(self, request, pk):
        output = get_object_or_404(Output.objects.visible_to(request.user).exclude(file=""), pk=pk)
        suffix = "pdf" if output.file_content_type == "application/pdf" else "jpg"
        return _private_file(
            request,
            output.file,
            output.file_content_type,
            output.file_sha256,
            filename=f"output-{output.pk}.{suffix}",
        )


# --------------------------------------------------------------------------- outputs and lessons


class ResultCreateMixin(ReportMixin):
    """Add an output or a lesson to a report's CoP: its staff only."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        report = self.get_report()
        if report.grant_id is None or not permissions.can_add_results(request.user, report.cop_id):
            messages.info(request, _("Only staff of the CoP's member organisations can add to its reports."))
            return self.to_detail()
        return super().dispatch(request, *args, **kwargs)

    def page(self, form, status=200):
        return render(
            self.request, self.template_name, {"report": self.get_report(), "form": form}, status=status
        )


class OutputCreateView(ResultCreateMixin, View):
    template_name = "activities/output_form.html"

    def get(self, request, pk):
        return self.page(OutputForm())

    def post(self, request, pk):
        form = OutputForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.output_add(
                    acting_user=request.user,
                    report=self.get_report(),
                    kind=data["kind"],
                    title=data["title"],
                    languages=data["languages"],
                    produced_on=data["produced_on"],
                    url=data["url"],
                    upload=data["file"] or None,
                    findings=data["findings"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Output added."))
                return self.to_detail()
        return self.page(form)


class LessonCreateView(ResultCreateMixin, View):
    template_name = "activities/lesson_form.html"

    def themes(self):
        return selectors.themes_for(self.request.user)

    def get(self, request, pk):
        return self.page(LessonForm(themes=self.themes()))

    def post(self, request, pk):
        form = LessonForm(request.POST, themes=self.themes())
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.lesson_add(
                    acting_user=request.user,
                    report=self.get_report(),
                    stage=data["stage"],
                    text=data["text"],
                    themes=data["themes"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Lesson added."))
                return self.to_detail()
        return self.page(form)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
