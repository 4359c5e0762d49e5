import pytest

from tests.factories import ready_proposal, under_review


@pytest.mark.django_db
def test_factories_build_a_submittable_proposal():
    from proposals.services import proposal_submission_problems

    proposal, staff = ready_proposal()
    assert proposal_submission_problems(proposal) == []
    proposal, staff, member = under_review()
    assert proposal.status == "under_review"
