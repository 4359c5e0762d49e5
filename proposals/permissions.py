"""Who may do what to a proposal: predicates used by views, templates, the admin and the
services (the services check again; a predicate here only answers yes or no)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from ccop.models import Membership
from ccop.permissions import (
    is_active_user,
    is_committee_member_of,
    is_facilitator_of,
    is_grantee_staff_of,
)

from .models import Applicant, ConflictDeclaration, Proposal

APPLICANT_EDITABLE = {Proposal.Status.DRAFT, Proposal.Status.REVISION_REQUESTED}
WITHDRAWABLE = {
    Proposal.Status.DRAFT,
    Proposal.Status.SUBMITTED,
    Proposal.Status.UNDER_REVIEW,
    Proposal.Status.REVISION_REQUESTED,
}


def programme_id(proposal: Proposal) -> int:
    return proposal.cop.country_programme_id


def applicant_organisation_ids(proposal: Proposal) -> set[int]:
    return {a.organisation_id for a in proposal.applicants.all()}


def is_applicant_staff(user, proposal: Proposal) -> bool:
    return is_grantee_staff_of(user, applicant_organisation_ids(proposal))


def is_member_staff(user, proposal: Proposal) -> bool:
    """Grantee staff of an organisation that is (or was) a member of the proposal's CoP."""
    if not is_active_user(user) or not user.organisation_id:
        return False
    return Membership.objects.filter(cop_id=proposal.cop_id, organisation_id=user.organisation_id).exists()


def can_view_proposal(user, proposal: Proposal) -> bool:
    if not is_active_user(user):
        return False
    pid = programme_id(proposal)
    return (
        is_facilitator_of(user, pid)
        or is_committee_member_of(user, pid)
        or is_applicant_staff(user, proposal)
        or (user.role == user.Role.GRANTEE_STAFF and is_member_staff(user, proposal))
    )


def can_edit_proposal(user, proposal: Proposal) -> bool:
    """Applicants and the programme's facilitators, while the proposal is a draft or sent back.
    Nobody edits a submitted, decided or withdrawn proposal (DESIGN rule 4)."""
    if proposal.status not in APPLICANT_EDITABLE:
        return False
    return is_applicant_staff(user, proposal) or is_facilitator_of(user, programme_id(proposal))


def can_submit_proposal(user, proposal: Proposal) -> bool:
    return can_edit_proposal(user, proposal)


def has_conflict(user, proposal: Proposal) -> bool:
    """Affiliated with an applicant organisation, or a declared conflict (DESIGN rule 5)."""
    if not is_active_user(user):
        return False
    if user.affiliated_organisation_ids() & applicant_organisation_ids(proposal):
        return True
    return proposal.conflicts.filter(member=user).exists()


def can_review_proposal(user, proposal: Proposal) -> bool:
    return is_committee_member_of(user, programme_id(proposal)) and not has_conflict(user, proposal)


can_decide_proposal = can_review_proposal


def can_withdraw_proposal(user, proposal: Proposal) -> bool:
    if proposal.status not in WITHDRAWABLE:
        return False
    return is_applicant_staff(user, proposal) or is_facilitator_of(user, programme_id(proposal))


def conflicted_proposal_ids(user, proposals) -> set[int]:
    """`has_conflict` for a page of proposals at once (the same rule, DESIGN rule 5): three
    queries whatever their number."""
    proposals = list(proposals)
    if not is_active_user(user) or not proposals:
        return set()
    affiliated = user.affiliated_organisation_ids()
    ids = [p.pk for p in proposals]
    conflicted = set(
        Applicant.objects.filter(proposal_id__in=ids, organisation_id__in=affiliated).values_list(
            "proposal_id", flat=True
        )
    )
    conflicted |= set(
        ConflictDeclaration.objects.filter(proposal_id__in=ids, member=user).values_list(
            "proposal_id", flat=True
        )
    )
    return conflicted


def without_conflicts(queryset, user):
    """The proposals of `queryset` this person has no conflict of interest with (DESIGN rule 5,
    as `has_conflict` says it), in SQL, so a list of them can be paginated and counted."""
    if not is_active_user(user):
        return queryset.none()
    affiliated = Applicant.objects.filter(
        proposal_id=OuterRef("pk"), organisation_id__in=user.affiliated_organisation_ids()
    )
    declared = ConflictDeclaration.objects.filter(proposal_id=OuterRef("pk"), member=user)
    return queryset.exclude(Exists(affiliated)).exclude(Exists(declared))
