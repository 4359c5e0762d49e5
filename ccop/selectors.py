"""Reads of the core, scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import CoP, Membership, Organisation, User


def cops_for_user(user) -> QuerySet[CoP]:
    memberships = Membership.objects.select_related("organisation")
    return (
        CoP.objects.visible_to(user)
        .select_related("country_programme")
        .prefetch_related(Prefetch("memberships", queryset=memberships))
    )


def _facilitator_or_superuser(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or (user.role == User.Role.FACILITATOR and user.country_programme_id))
    )


def organisations_invitable_by(user) -> QuerySet[Organisation]:
    """Organisations a facilitator may invite people to: those of their programme."""
    if not _facilitator_or_superuser(user):
        return Organisation.objects.none()
    return Organisation.objects.visible_to(user)
