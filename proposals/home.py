"""The proposals' panels of the home page (see `ccop.home` for the contract): endorsements
waiting for the person's organisation, revision requests, proposals for the committee, the
person's proposals by state, and the budget spreadsheets.

Every panel is bounded at the size of a whole programme (issue 13): the most recent few with a
count and a link to the paginated list, the committee's proposals 20 a page, and the reads are a
fixed number of queries (endorsements of many proposals checked at once, conflicts of interest
in SQL)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.translation import gettext as _

from ccop.home import Panel
from grants.selectors import funds_for_facilitator

from .selectors import proposals_by_state, proposals_for_user, proposals_to_review, revision_requests_for
from .services import proposals_awaiting_endorsement

ENDORSEMENT_CANDIDATES = 50  # the most recently changed editable proposals checked
REVIEW_PAGE = 20


def panels(request) -> list[Panel]:
    user = request.user
    visible = proposals_for_user(user).order_by("-updated_at", "-pk")
    endorsements = proposals_awaiting_endorsement(user=user, proposals=visible, limit=ENDORSEMENT_CANDIDATES)
    revisions = revision_requests_for(user)
    to_review = None
    if user.is_committee_member or user.is_superuser:
        to_review = Paginator(proposals_to_review(user), REVIEW_PAGE).get_page(request.GET.get("review_page"))
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
            context={"to_review": to_review},
            order=120,
            waiting=True,
            empty=not (to_review and to_review.paginator.count),
        ),
        Panel(
            key="proposals-states",
            title=_("Proposals by state"),
            template="proposals/_home_states.html",
            context={"states": proposals_by_state(visible)},
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
