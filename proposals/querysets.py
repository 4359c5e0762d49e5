"""`visible_to(user)` of proposals and everything that belongs to one (see `ccop.scoping`).

A proposal is visible to the facilitators and committee members of its CoP's programme and to
the staff of the organisations that are or were members of its CoP. Its parts (applicants,
activities, budget lines, rates, endorsements, steps, versions, the decision) are visible with
it; the committee's own records (reviews, scores, criteria, conflict declarations) are not shown
to grantee staff."""

from __future__ import annotations

from ccop.querysets import member_cop_ids
from ccop.scoping import ScopedQuerySet


class ProposalQuerySet(ScopedQuerySet):
    programme_field = "cop__country_programme"

    def for_organisation(self, organisation_id):
        return self.filter(cop_id__in=member_cop_ids(organisation_id))


class ProposalPartQuerySet(ScopedQuerySet):
    """A row that belongs to one proposal through `proposal_path`."""

    proposal_path = "proposal"

    @property
    def programme_field(self):
        return f"{self.proposal_path}__cop__country_programme"

    def for_organisation(self, organisation_id):
        return self.filter(**{f"{self.proposal_path}__cop_id__in": member_cop_ids(organisation_id)})


class ActivityPartQuerySet(ProposalPartQuerySet):
    proposal_path = "activity__proposal"


class CommitteeRecordQuerySet(ProposalPartQuerySet):
    """Reviews and conflict declarations: the programme's staff only."""

    def for_organisation(self, organisation_id):
        return self.none()


class ReviewScoreQuerySet(CommitteeRecordQuerySet):
    proposal_path = "review__proposal"


class ReviewCriterionQuerySet(ScopedQuerySet):
    programme_field = "fund__country_programme"
