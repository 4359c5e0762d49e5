"""The committee's and facilitators' admin. Every change goes through `proposals.services`:
forms call the service's checks to show errors on the page, and `save_*` and the actions call
the services, which check again. A refusal is an admin error message, never a 500.

One module per job: `proposal` (list, change page, decision pages, actions), `decisions` (the
decision forms and figures), `children` (a proposal's records on their own pages), `reviews`
(reviews, criteria, conflicts), `common` (shared mixins and inlines)."""

from . import children, reviews  # noqa: F401  (registers their admins)
from .decisions import DECISION_FROM, DECISIONS
from .proposal import ProposalAdmin

__all__ = ["DECISIONS", "DECISION_FROM", "ProposalAdmin"]
