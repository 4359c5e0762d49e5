"""Reads of the core, scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import CoP, Membership, Organisation, User


def cops_for_user(user) -> QuerySet[CoP]:
    memberships = Membership.objects.select_related("organisation")
    qs = CoP.objects.select_related("country_programme").prefetch_related(
        Prefetch("memberships", queryset=memberships)
    )
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_superuser:
        return qs
    if user.role in (User.Role.FACILITATOR, User.Role.COMMITTEE_MEMBER) and user.country_programme_id:
        return qs.filter(country_programme_id=user.country_programme_id)
    if user.role == User.Role.COMMITTEE_MEMBER:
        return qs
    if user.organisation_id:
        return qs.filter(memberships__organisation_id=user.organisation_id).distinct()
    return qs.none()


def organisations_invitable_by(user) -> QuerySet[Organisation]:
    """Organisations a facilitator may invite people to: those of their programme."""
    if not (user and user.is_authenticated and user.is_active):
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.all()
    if user.role == User.Role.FACILITATOR and user.country_programme_id:
        return Organisation.objects.filter(country_programme_id=user.country_programme_id)
    return Organisation.objects.none()
