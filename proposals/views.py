"""Portal pages for grantee staff and facilitators. Every object comes through the scoped
selectors, so another organisation's proposal answers 404; every change through the services,
whose refusals (`ValidationError`) become messages on the page, never a server error."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, ListView, TemplateView
from django_htmx.http import HttpResponseClientRedirect

from ccop import money
from ccop.errors import NotAllowed, StaleEdit
from ccop.models import CoPPhase, Organisation, RightsholderGroup
from ccop.permissions import is_grantee_staff_of

from . import permissions, services
from .diff import Labels, snapshot_diff
from .forms import LinesNav, ProposalCreateForm, ProposalEditForms
from .models import Applicant, BudgetLine, Proposal
from .selectors import (
    LIST_DEFERRED,
    BudgetSummary,
    budget_summary,
    cops_open_to_proposals_by,
    open_funds_for,
    proposal_plan,
    proposals_for_user,
)


class PortalLoginRequiredMixin(LoginRequiredMixin):
    """An htmx request from an expired session sends the whole page to log in and back to it
    (what the person typed waits in the browser's storage)."""

    def handle_no_permission(self):
        request = self.request
        if request.htmx and not request.user.is_authenticated:
            back = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(
                f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}"
            )
        return super().handle_no_permission()


class ProposalMixin(PortalLoginRequiredMixin):
    """The proposal of the URL, among those the user may see (404 otherwise, never 403)."""

    def get_proposal(self) -> Proposal:
        if not hasattr(self, "_proposal"):
            applicants = Applicant.objects.select_related("organisation__country_programme")
            phases = CoPPhase.objects.filter(cop_id=OuterRef("cop_id"))
            queryset = (
                proposals_for_user(self.request.user)
                .annotate(cop_has_phases=Exists(phases))
                .prefetch_related(Prefetch("applicants", queryset=applicants))
            )
            self._proposal = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self._proposal

    def to_detail(self, anchor: str = ""):
        url = reverse("proposals:proposal-detail", args=[self.get_proposal().pk]) + anchor
        return HttpResponseClientRedirect(url) if self.request.htmx else redirect(url)


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


# --------------------------------------------------------------------------- shared page parts


def _amounts(amounts: dict[str, Decimal]) -> str:
    return " + ".join(money.format_money(a, c) for c, a in sorted(amounts.items())) or "—"


def budget_totals_context(
    proposal: Proposal, summary: BudgetSummary, activity_titles: dict, skipped=0
) -> dict:
    """The budget's subtotals ready to show: per category, per activity, and the total in the
    fund's currency (None while a rate is missing). All `Decimal`, computed by the selector."""
    fund = proposal.fund

    def row(label, amounts):
        converted = summary.convert_group(amounts)
        return {
            "label": label,
            "amounts": _amounts(amounts),
            "converted": money.format_money(converted, fund.currency) if converted is not None else None,
        }

    categories = dict(BudgetLine.Category.choices)
    total = summary.total_in_fund_currency
    return {
        "fund": fund,
        "by_category": [
            row(categories.get(c, c), summary.by_category[c]) for c in categories if c in summary.by_category
        ],
        "by_activity": [
            row(activity_titles.get(pk) or _("Not linked to one activity"), amounts)
            for pk, amounts in sorted(
                summary.by_activity.items(), key=lambda item: (item[0] is None, item[0] or 0)
            )
        ],
        "by_currency": _amounts(summary.by_currency),
        "total": money.format_money(total, fund.currency) if total is not None else None,
        "cap": money.format_money(fund.per_proposal_cap, fund.currency) if fund.per_proposal_cap else None,
        "missing_rates": summary.missing_rates,
        "line_count": summary.line_count,
        "skipped": skipped,
    }


NARRATIVE_ANCHORS = {
    "title": "id_title",
    "problem_analysis": "id_problem_analysis",
    "objectives": "id_objectives",
    "provinces": "id_provinces",
    "starts_on": "id_starts_on",
    "ends_on": "id_ends_on",
    "budget_option": "div_id_budget_option",
    "target_groups": "div_id_target_groups",
    "phase": "id_phase",
    "activities": "section-activities",
    "budget": "section-budget",
}
DETAIL_ANCHORS = {"applicants": "section-applicants", "fund": "section-fund"}


def problem_links(proposal: Proposal, problems, can_edit: bool) -> list[dict]:
    """Each missing piece with a link to where it is fixed: a field or section of the edit page,
    or the applicants' section of the proposal page."""
    edit = reverse("proposals:proposal-edit", args=[proposal.pk])
    detail = reverse("proposals:proposal-detail", args=[proposal.pk])
    rows = []
    for problem in problems:
        if problem.section in DETAIL_ANCHORS:
            url = f"{detail}#{DETAIL_ANCHORS[problem.section]}"
        elif can_edit:
            url = f"{edit}#{NARRATIVE_ANCHORS.get(problem.section, 'section-narrative')}"
        else:
            url = None
        rows.append({"message": problem.message, "url": url, "code": problem.code})
    return rows


# --------------------------------------------------------------------------- list and create


class ProposalListView(PortalLoginRequiredMixin, ListView):
    template_name = "proposals/proposal_list.html"
    context_object_name = "proposals"
    paginate_by = 50

    def get_queryset(self):
        proposals = (
            proposals_for_user(self.request.user)
            .defer(*LIST_DEFERRED)
            .prefetch_related("applicants__organisation")
        )
        if self.status:
            proposals = proposals.filter(status=self.status)
        return proposals.order_by("-updated_at", "-pk")

    @property
    def status(self) -> str | None:
        """`?status=` narrows the list to one state (the home page's "all N" links)."""
        value = self.request.GET.get("status")
        return value if value in Proposal.Status.values else None

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            status_label=Proposal.Status(self.status).label if self.status else None,
            query=f"status={self.status}" if self.status else "",
            **kwargs,
        )


class ProposalCreateView(PortalLoginRequiredMixin, FormView):
    template_name = "proposals/proposal_create.html"
    form_class = ProposalCreateForm

    def get_form_kwargs(self):
        cops = cops_open_to_proposals_by(self.request.user)
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "cops": cops,
            "funds": open_funds_for(cops),
        }

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            proposal = services.proposal_create(
                cop=data["cop"], fund=data["fund"], title=data["title"], acting_user=self.request.user
            )
        except services.AlreadyCreated as exc:  # the form posted twice (a double click)
            messages.info(self.request, exc.messages[0])
            return redirect("proposals:proposal-edit", pk=exc.proposal.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Proposal started. Fill in each section, then save."))
        return redirect("proposals:proposal-edit", pk=proposal.pk)


# --------------------------------------------------------------------------- read


DETAIL_LINES_PER_PAGE = 50  # the whole budget is in the totals below and in the PDF


class ProposalDetailView(ProposalMixin, TemplateView):
    template_name = "proposals/proposal_detail.html"

    def get_context_data(self, **kwargs):
        proposal, user = self.get_proposal(), self.request.user
        plan = proposal_plan(proposal)
        titles = {a.pk: a.title for a in plan.activities}
        nav = LinesNav.of(len(plan.lines), lines_page(self.request), DETAIL_LINES_PER_PAGE)
        can_edit = permissions.can_edit_proposal(user, proposal)
        editable = proposal.status in permissions.APPLICANT_EDITABLE
        endorsements = list(proposal.endorsements.select_related("endorsed_by").order_by("endorsed_at"))
        valid_ids = services.valid_endorsement_organisation_ids(
            proposal, services.plan_content_digest(proposal, plan), endorsements=endorsements
        )
        applicant_ids = permissions.applicant_organisation_ids(proposal)
        transitions = list(proposal.transitions.select_related("actor"))
        revisions = [t for t in transitions if t.to_status == Proposal.Status.REVISION_REQUESTED]
        problems = (
            services.proposal_submission_problems(
                proposal, plan=plan, valid_ids=valid_ids, endorsements=endorsements
            )
            if editable
            else []
        )
        return super().get_context_data(
            proposal=proposal,
            activities=plan.activities,
            lines=[(line, titles.get(line.activity_id)) for line in plan.lines[nav.start : nav.end]],
            lines_nav=nav if nav.pages > 1 else None,
            totals=budget_totals_context(
                proposal, budget_summary(proposal, lines=plan.lines, rates=plan.rates), titles
            ),
            target_groups=[g for g in plan.groups if g.pk in plan.target_group_ids],
            endorsements=_endorsement_rows(proposal, valid_ids, endorsements),
            valid_count=len(valid_ids),
            can_edit=can_edit,
            can_submit=permissions.can_submit_proposal(user, proposal),
            can_withdraw=permissions.can_withdraw_proposal(user, proposal),
            can_endorse=editable
            and is_grantee_staff_of(user, applicant_ids)
            and user.organisation_id not in valid_ids,
            addable=list(
                Organisation.objects.filter(memberships__in=proposal.cop.active_memberships())
                .select_related("country_programme")
                .exclude(pk__in=applicant_ids)
                .order_by("acronym")
            )
            if can_edit
            else [],
            problems=problem_links(proposal, problems, can_edit),
            editable=editable,
            transitions=transitions,
            revision_requests=revisions,
            latest_revision_request=revisions[-1]
            if revisions and proposal.status == Proposal.Status.REVISION_REQUESTED
            else None,
            version_count=proposal.versions.count(),
            **kwargs,
        )


def _endorsement_rows(proposal: Proposal, valid_ids: set[int], endorsements: list) -> list[dict]:
    """Each applicant with its endorsement state: valid, void (the content changed since) or
    missing, and the latest endorsement it gave (`endorsements`: oldest first)."""
    latest = {}
    for endorsement in endorsements:
        latest[endorsement.organisation_id] = endorsement
    rows = []
    for applicant in proposal.applicants.all():
        org_id = applicant.organisation_id
        state = "valid" if org_id in valid_ids else "void" if org_id in latest else "missing"
        rows.append({"applicant": applicant, "state": state, "endorsement": latest.get(org_id)})
    return rows


# --------------------------------------------------------------------------- edit


class ProposalEditView(ProposalMixin, View):
    """One page for the narrative, the activities, the budget lines and the rates, saved in one
    step by `services.proposal_save_plan`. Add-a-row buttons work without JavaScript (the page
    comes back with one more empty row) and with htmx (only the new row comes back)."""

    template_name = "proposals/proposal_edit.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        proposal = self.get_proposal()
        if not permissions.can_edit_proposal(request.user, proposal):
            if proposal.status not in permissions.APPLICANT_EDITABLE:
                messages.info(
                    request,
                    _("This proposal is %(status)s and can no longer be changed.")
                    % {"status": proposal.get_status_display().lower()},
                )
            else:
                messages.info(
                    request,
                    _(
                        "Only staff of an applicant organisation or the programme's facilitators can change this proposal."
                    ),
                )
            return self.to_detail()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        proposal = self.get_proposal()
        forms = ProposalEditForms(proposal, proposal_plan(proposal), lines_page=lines_page(request))
        saved = request.GET.get("saved") == str(proposal.revision)
        return self.render(forms, saved_revision=proposal.revision if saved else None)

    def post(self, request, pk):
        proposal = self.get_proposal()
        forms = ProposalEditForms(
            proposal, proposal_plan(proposal), data=request.POST, lines_page=lines_page(request)
        )
        adding = request.POST.get("add")
        if adding in ("activities", "lines"):
            new_form = getattr(forms, adding).new_form()
            if request.htmx:
                context = {"form": new_form, "formset": getattr(forms, adding), "kind": adding, "oob": True}
                return render(request, "proposals/_add_row.html", {**context, "proposal": proposal})
            return self.render(forms, new_rows={adding: new_form}, echoed=True)
        if not forms.is_valid():
            return self.render(forms, echoed=True, invalid=True)
        kwargs = forms.service_kwargs()
        overwrite = request.POST.get("overwrite", "")
        if overwrite.isdigit():
            kwargs["expected_revision"] = int(overwrite)
        try:
            saved = services.proposal_save_plan(proposal=proposal, acting_user=request.user, **kwargs)
        except StaleEdit as exc:
            proposal.refresh_from_db(fields=["revision"])
            return self.render(
                forms, echoed=True, stale=exc.messages, latest_revision=proposal.revision, status=409
            )
        except ValidationError as exc:
            forms.add_service_errors(exc)
            return self.render(forms, echoed=True, invalid=True)
        messages.success(request, _("Saved."))
        if request.POST.get("then") == "view":
            url = reverse("proposals:proposal-detail", args=[pk])
        else:
            url = reverse("proposals:proposal-edit", args=[pk]) + f"?saved={saved.revision}"
            if forms.lines_pages > 1:
                url += f"&lines_page={forms.lines_page}"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

    def render(self, forms: ProposalEditForms, status=200, **context):
        proposal = forms.proposal
        titles = {a.pk: a.title for a in forms.plan.activities}
        if forms.data is None:
            summary, skipped = budget_summary(proposal, lines=forms.plan.lines, rates=forms.plan.rates), 0
        else:
            lines, rates, skipped = forms.typed_totals_input()
            summary = budget_summary(proposal, lines=lines, rates=rates)
        plan = forms.plan
        endorsements = list(proposal.endorsements.all())  # read once: the same queries whatever they say
        valid_ids = services.valid_endorsement_organisation_ids(
            proposal, services.plan_content_digest(proposal, plan), endorsements=endorsements
        )
        problems = services.proposal_submission_problems(
            proposal, plan=plan, valid_ids=valid_ids, endorsements=endorsements
        )
        context = {
            "proposal": proposal,
            "forms": forms,
            "totals": budget_totals_context(proposal, summary, titles, skipped),
            "endorsed_by": [
                a.organisation for a in proposal.applicants.all() if a.organisation_id in valid_ids
            ],
            "problems": problem_links(proposal, problems, can_edit=True),
            "new_rows": {},
            **context,
        }
        return render(self.request, self.template_name, context, status=status)


def lines_page(request) -> int:
    """Which page of budget lines the edit page shows (`lines_page`, in the URL or the form)."""
    value = request.POST.get("lines_page") or request.GET.get("lines_page") or "1"
    return int(value) if value.isdigit() and len(value) < 6 else 1


class ProposalBudgetTotalsView(ProposalMixin, View):
    """The budget's subtotals for the lines and rates as typed (not saved), computed here with
    `Decimal`: the edit page posts its form here as the person types (htmx)."""

    def post(self, request, pk):
        proposal = self.get_proposal()
        plan = proposal_plan(proposal)
        forms = ProposalEditForms(proposal, plan, data=request.POST, lines_page=lines_page(request))
        lines, rates, skipped = forms.typed_totals_input()
        summary = budget_summary(proposal, lines=lines, rates=rates)
        titles = {a.pk: a.title for a in plan.activities}
        context = {"totals": budget_totals_context(proposal, summary, titles, skipped), "oob": True}
        return render(request, "proposals/_budget_totals.html", context)


# --------------------------------------------------------------------------- actions


class ProposalEndorseView(ProposalMixin, View):
    def post(self, request, pk):
        proposal = self.get_proposal()
        comment = request.POST.get("comment", "").strip()
        if request.user.organisation_id in services.valid_endorsement_organisation_ids(proposal):
            messages.info(
                request,
                _("%(org)s already endorsed the proposal as it is now.")
                % {"org": getattr(request.user.organisation, "acronym", "")},
            )
            return self.to_detail("#section-applicants")
        _run(
            request,
            lambda: services.proposal_endorse(proposal=proposal, acting_user=request.user, comment=comment),
            _("You endorsed the proposal for %(org)s.")
            % {"org": getattr(request.user.organisation, "acronym", "")},
        )
        return self.to_detail("#section-applicants")


class ProposalSubmitView(ProposalMixin, View):
    def post(self, request, pk):
        proposal = self.get_proposal()
        try:
            services.proposal_submit(proposal=proposal, acting_user=request.user)
        except ValidationError as exc:
            if isinstance(exc, NotAllowed) or proposal.status not in permissions.APPLICANT_EDITABLE:
                for message in exc.messages:
                    messages.error(request, message)
                return self.to_detail()
            messages.error(
                request,
                ngettext(
                    "The proposal was not submitted: one thing is still missing. It is listed under “Before you can submit”.",
                    "The proposal was not submitted: %(n)s things are still missing. They are listed under “Before you can submit”.",
                    len(exc.messages),
                )
                % {"n": len(exc.messages)},
            )
            return self.to_detail("#checklist")
        messages.success(
            request, _("Submitted. The committee will review the proposal; you will see its answer here.")
        )
        return self.to_detail()


class ProposalWithdrawView(ProposalMixin, View):
    template_name = "proposals/proposal_withdraw.html"

    def get(self, request, pk):
        proposal = self.get_proposal()
        if not permissions.can_withdraw_proposal(request.user, proposal):
            messages.info(request, _("This proposal cannot be withdrawn by you now."))
            return self.to_detail()
        return render(request, self.template_name, {"proposal": proposal})

    def post(self, request, pk):
        proposal = self.get_proposal()
        reason = request.POST.get("reason", "")
        _run(
            request,
            lambda: services.proposal_withdraw(proposal=proposal, acting_user=request.user, reason=reason),
            _("The proposal was withdrawn."),
        )
        return self.to_detail()


class ApplicantAddView(ProposalMixin, View):
    def post(self, request, pk):
        proposal = self.get_proposal()
        organisation = _organisation(request.POST.get("organisation"), proposal.cop.organisations.all())
        if organisation is None:
            messages.error(request, _("Choose one of the CoP's member organisations."))
        else:
            _run(
                request,
                lambda: services.applicant_add(
                    proposal=proposal, organisation=organisation, acting_user=request.user
                ),
                _("%(org)s is now an applicant. Endorsements given before this change are void.")
                % {"org": organisation.acronym},
            )
        return self.to_detail("#section-applicants")


class ApplicantRemoveView(ProposalMixin, View):
    """One click removes a co-applicant; the lead is removed only from its confirmation page."""

    def post(self, request, pk):
        proposal = self.get_proposal()
        applicant = proposal.applicants.filter(organisation_id=_id(request.POST.get("organisation"))).first()
        if applicant is None:
            messages.error(request, _("This organisation is not an applicant."))
            return self.to_detail("#section-applicants")
        if applicant.is_lead and request.POST.get("confirm") != "yes":
            return redirect(
                "proposals:applicant-remove-confirm", pk=proposal.pk, organisation=applicant.organisation_id
            )
        return _remove_applicant(
            request, proposal, applicant.organisation, self.to_detail("#section-applicants")
        )


class ApplicantRemoveConfirmView(ProposalMixin, View):
    """What removing an applicant means, before it happens: who leads afterwards, that its staff
    can no longer edit, that endorsements are void; the last applicant cannot be removed."""

    template_name = "proposals/applicant_remove.html"
    http_method_names = ["get", "post", "head"]

    def get_applicant(self):
        proposal = self.get_proposal()
        applicant = get_object_or_404(
            proposal.applicants.select_related("organisation"), organisation_id=self.kwargs["organisation"]
        )
        return proposal, applicant

    def get(self, request, pk, organisation):
        proposal, applicant = self.get_applicant()
        if not permissions.can_edit_proposal(request.user, proposal):
            messages.info(request, _("The applicants of this proposal cannot be changed by you now."))
            return self.to_detail("#section-applicants")
        successor = services.applicant_successor(proposal, applicant.organisation)
        return render(
            request,
            self.template_name,
            {"proposal": proposal, "applicant": applicant, "successor": successor},
        )

    def post(self, request, pk, organisation):
        proposal, applicant = self.get_applicant()
        return _remove_applicant(
            request, proposal, applicant.organisation, self.to_detail("#section-applicants")
        )


def _remove_applicant(request, proposal, organisation, response):
    def remove():
        lead = services.applicant_remove(
            proposal=proposal, organisation=organisation, acting_user=request.user
        )
        if lead is not None and lead.organisation_id != organisation.pk:
            messages.info(
                request,
                _("%(org)s now leads the proposal.") % {"org": lead.organisation.acronym},
            )

    _run(
        request,
        remove,
        _("%(org)s is no longer an applicant. Endorsements given before this change are void.")
        % {"org": organisation.acronym},
    )
    return response


def _id(value) -> int | None:
    return int(value) if (value or "").isdigit() else None


def _organisation(value, queryset) -> Organisation | None:
    if not (value or "").isdigit():
        return None
    return queryset.filter(pk=int(value)).first()


# --------------------------------------------------------------------------- versions


class ProposalVersionsView(ProposalMixin, TemplateView):
    """The submitted versions, newest first, each with what changed since the one before."""

    template_name = "proposals/proposal_versions.html"

    def get_context_data(self, **kwargs):
        proposal = self.get_proposal()
        versions = list(proposal.versions.select_related("submitted_by").order_by("number"))
        labels = Labels(
            groups={group.code: group.label for group in RightsholderGroup.objects.all()},
            categories=dict(BudgetLine.Category.choices),
            budget_options=dict(Proposal.BudgetOption.choices),
        )
        rows = [
            (version, snapshot_diff(versions[i - 1].snapshot, version.snapshot, labels) if i else None)
            for i, version in enumerate(versions)
        ]
        pending = None
        if versions and proposal.status in permissions.APPLICANT_EDITABLE:
            pending = snapshot_diff(versions[-1].snapshot, services.proposal_snapshot(proposal), labels)
        return super().get_context_data(
            proposal=proposal, versions=list(reversed(rows)), pending=pending, **kwargs
        )
