"""Who may do what with activity reports, outputs and lessons: predicates used by views,
templates, the admin and the services (the services check again)."""

from __future__ import annotations

from ccop.models import CoP, Membership, User
from ccop.permissions import is_active_user, is_facilitator_of

from .models import ActivityReport

EDITABLE = {ActivityReport.Status.DRAFT, ActivityReport.Status.SENT_BACK}


def is_cop_staff(user, cop: CoP | int) -> bool:
    """Grantee staff of an organisation that is an active member of the CoP today."""
    if not is_active_user(user) or user.role != User.Role.GRANTEE_STAFF or not user.organisation_id:
        return False
    cop_id = getattr(cop, "pk", cop)
    return Membership.objects.filter(
        Membership.active_q(), cop_id=cop_id, organisation_id=user.organisation_id
    ).exists()


def grant_cop(grant) -> CoP:
    return grant.proposal.cop


def can_file_report(user, grant) -> bool:
    """Reports only for a grant of one's own CoP: staff of an active member organisation."""
    return is_cop_staff(user, grant_cop(grant).pk)


def can_edit_report(user, report: ActivityReport) -> bool:
    """The CoP's staff, while the report is a draft or sent back. Reports transcribed from a
    source (no grant) are not edited in the portal."""
    return report.grant_id is not None and report.status in EDITABLE and is_cop_staff(user, report.cop_id)


can_submit_report = can_edit_report


def is_programme_facilitator(user, cop: CoP) -> bool:
    return is_facilitator_of(user, cop.country_programme_id)


def can_review_report(user, report: ActivityReport) -> bool:
    """A facilitator of the CoP's programme (or a superuser), while the report is submitted."""
    return report.status == ActivityReport.Status.SUBMITTED and is_programme_facilitator(user, report.cop)


def can_publish_report(user, report: ActivityReport) -> bool:
    """Publishing is a facilitator's act, and only accepted reports are published."""
    return report.status == ActivityReport.Status.ACCEPTED and is_programme_facilitator(user, report.cop)


def can_add_results(user, cop: CoP | int) -> bool:
    """Outputs and lessons of a CoP are added by its staff (any time: a video often comes out
    after the activity)."""
    return is_cop_staff(user, cop)


def can_publish_result(user, item) -> bool:
    """An output or lesson is published by a facilitator of its CoP's programme, once its
    activity report (if any) is published."""
    if item.is_published:
        return False
    if item.report_id is not None and not item.report.is_published:
        return False
    return is_programme_facilitator(user, item.cop)
