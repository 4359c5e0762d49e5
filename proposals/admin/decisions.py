"""The committee's decisions in the admin: the reason form, the decisions each state allows, the
figures shown where the committee decides, and applying a decision through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ccop import money

from .. import permissions, services
from ..models import (
    Proposal,
)
from ..selectors import budget_summary


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason / comment"),
        widget=forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField"}),
        required=True,
    )
    amount = forms.DecimalField(
        label=_("Amount in the fund's currency (optional)"),
        help_text=_(
            "Approving: the budget's total you reviewed (refused if the budget changed since). "
            "Requesting a revision: the amount the committee could fund."
        ),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=0,
    )


def _run(modeladmin, request, queryset, label, call):
    """Apply a service to each selected proposal; report each refusal in plain words."""
    done = 0
    for proposal in queryset:
        try:
            call(proposal)
            done += 1
        except ValidationError as exc:
            modeladmin.message_user(
                request, f"{proposal.title}: {' '.join(exc.messages)}", level=messages.ERROR
            )
    if done:
        modeladmin.message_user(
            request,
            ngettext("%(label)s: %(n)d proposal.", "%(label)s: %(n)d proposals.", done)
            % {"label": label, "n": done},
            level=messages.SUCCESS,
        )


def _with_reason(modeladmin, request, queryset, action, title, call):
    """Ask for the reason (and optional amount) on an intermediate page, then apply."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        _run(modeladmin, request, queryset, title, lambda p: call(p, form.cleaned_data))
        return None
    return TemplateResponse(
        request,
        "admin/proposals/reason_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": action,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


DECISIONS = {
    "start_review": (_("Start review"), False),
    "request_revision": (_("Request revision"), True),
    "approve": (_("Approve"), True),
    "reject": (_("Reject"), True),
}
DECISION_FROM = {
    "start_review": {Proposal.Status.SUBMITTED},
    "request_revision": {Proposal.Status.UNDER_REVIEW},
    "approve": {Proposal.Status.UNDER_REVIEW},
    "reject": {Proposal.Status.UNDER_REVIEW},
}


def _decision_context(user, proposal: Proposal) -> dict:
    """What the committee sees where it decides: the decisions this person may take now, the
    amount requested and the fund's ceiling, approved total and remaining balance."""
    may_decide = permissions.can_decide_proposal(user, proposal)
    fund = proposal.fund
    requested = budget_summary(proposal).total_in_fund_currency
    return {
        "decisions": {
            name: DECISIONS[name][0]
            for name, states in DECISION_FROM.items()
            if may_decide and proposal.status in states
        },
        "has_conflict": permissions.has_conflict(user, proposal),
        "may_review": may_decide
        and proposal.status in (Proposal.Status.SUBMITTED, Proposal.Status.UNDER_REVIEW),
        "fund_figures": [
            (
                _("Requested"),
                money.format_money(requested, fund.currency) if requested is not None else _("rate missing"),
            ),
            (_("Fund ceiling"), money.format_money(fund.ceiling, fund.currency)),
            (_("Approved so far"), money.format_money(fund.approved_total(), fund.currency)),
            (_("Remaining"), money.format_money(fund.remaining(), fund.currency)),
            *(
                [(_("Cap per proposal"), money.format_money(fund.per_proposal_cap, fund.currency))]
                if fund.per_proposal_cap
                else []
            ),
        ],
    }


def _apply_decision(decision: str, proposal: Proposal, user, data: dict):
    if decision == "start_review":
        return services.proposal_start_review(proposal=proposal, acting_user=user)
    if decision == "request_revision":
        return services.proposal_request_revision(
            proposal=proposal, acting_user=user, comment=data["reason"], amount=data["amount"]
        )
    if decision == "approve":
        return services.proposal_approve(
            proposal=proposal, acting_user=user, reasons=data["reason"], amount=data["amount"]
        )
    return services.proposal_reject(proposal=proposal, acting_user=user, reason=data["reason"])
