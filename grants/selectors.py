"""Reads of funds and grants, scoped to what the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from ccop.models import User

from .models import Fund


def funds_for_facilitator(user) -> QuerySet[Fund]:
    """Funds whose budget workbooks a facilitator (or superuser) may export: their programme's."""
    if not (user and user.is_authenticated and user.is_active):
        return Fund.objects.none()
    if user.is_superuser:
        return Fund.objects.all()
    if user.role == User.Role.FACILITATOR and user.country_programme_id:
        return Fund.objects.filter(country_programme_id=user.country_programme_id)
    return Fund.objects.none()
