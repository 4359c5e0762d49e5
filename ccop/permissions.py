"""Who is who: role predicates shared by every app. Object rules live in each app's
`permissions.py` and build on these."""

from __future__ import annotations

from .models import User


def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_facilitator_of(user, programme_id: int | None) -> bool:
    """A facilitator of this country programme (or a superuser)."""
    if not is_active_user(user):
        return False
    if user.is_superuser:
        return True
    return (
        user.role == User.Role.FACILITATOR
        and programme_id is not None
        and user.country_programme_id == programme_id
    )


def is_committee_member_of(user, programme_id: int | None) -> bool:
    """A committee member for this programme; one without a programme sits on every committee."""
    if not is_active_user(user):
        return False
    if user.is_superuser:
        return True
    return user.role == User.Role.COMMITTEE_MEMBER and (
        user.country_programme_id is None or user.country_programme_id == programme_id
    )


def is_grantee_staff_of(user, organisation_ids) -> bool:
    if not is_active_user(user):
        return False
    return user.role == User.Role.GRANTEE_STAFF and user.organisation_id in set(organisation_ids)
