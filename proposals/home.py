"""The proposals' panels of the home page (see `ccop.home` for the contract): endorsements
waiting for the person's organisation, revision requests, proposals for the committee, the
person's proposals by state, and the budget spreadsheets."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

from ccop.home import Panel
from grants.selectors import funds_for_facilitator

from .models import Proposal
from .selectors import (
    proposals_for_home,
    proposals_to_review_by,
    proposals_waiting_for_endorsement,
    revision_requests,
)


def panels(request) -> list[Panel]:
    user = request.user
    proposals = proposals_for_home(user)
    by_state = defaultdict(list)
    for proposal in proposals:
        by_state[proposal.status].append(proposal)
    endorsements = proposals_waiting_for_endorsement(user, proposals)
    revisions = revision_requests(proposals)
    to_review = proposals_to_review_by(user, proposals)
    states = [(label, by_state[value]) for value, label in Proposal.Status.choices if by_state[value]]
    return [
        Panel(
            key="proposals-endorsements",
            title=_("Endorsements waiting for your organisation"),
            template="proposals/_home_endorsements.html",
            context={"proposals": endorsements},
            order=100,
            waiting=True,
            empty=not endorsements,
        ),
        Panel(
            key="proposals-revisions",
            title=_("Revision requested by the committee"),
            template="proposals/_home_revisions.html",
            context={"revision_requests": revisions},
            order=110,
            waiting=True,
            empty=not revisions,
        ),
        Panel(
            key="proposals-review",
            title=_("Proposals for the committee"),
            template="proposals/_home_review.html",
            context={"proposals": to_review},
            order=120,
            waiting=True,
            empty=not to_review,
        ),
        Panel(
            key="proposals-states",
            title=_("Proposals by state"),
            template="proposals/_home_states.html",
            context={"states": states},
            order=200,
        ),
        Panel(
            key="proposals-budgets",
            title=_("Budget spreadsheets"),
            template="proposals/_home_budgets.html",
            context={"funds": funds_for_facilitator(user)},
            order=910,
        ),
    ]
