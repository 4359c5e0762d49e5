"""Programme scoping in one place: what one person may see (DESIGN rule 6).

`scope_of(user)` says how far a person sees: everything (superusers; a committee member without
a programme, who sits on every committee), one country programme (facilitators and committee
members of it), one organisation's CoPs (grantee staff), or nothing (anonymous, inactive, no
role). Every model that belongs to a programme has a QuerySet with `visible_to(user)` built on
`ScopedQuerySet`: the model says where its programme is (`programme_field`) and what grantee
staff see (`for_organisation`). The selectors, the portal's views and the whole admin
(`ccop.admin_scoping`) read through it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    programme_id: int | None = None
    organisation_id: int | None = None


EVERYTHING = Scope(everything=True)
NOTHING = Scope()


def scope_of(user) -> Scope:
    if not (user is not None and user.is_authenticated and user.is_active):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    roles = user.Role
    if user.role == roles.FACILITATOR:
        return Scope(programme_id=user.country_programme_id) if user.country_programme_id else NOTHING
    if user.role == roles.COMMITTEE_MEMBER:
        return Scope(programme_id=user.country_programme_id) if user.country_programme_id else EVERYTHING
    if user.role == roles.GRANTEE_STAFF and user.organisation_id:
        return Scope(organisation_id=user.organisation_id)
    return NOTHING


class ScopedQuerySet(models.QuerySet):
    """A model that belongs to a country programme. Subclasses set `programme_field` (the
    lookup of the programme's id from this model) and override `for_organisation` where grantee
    staff see some rows (nothing by default)."""

    programme_field = ""

    def visible_to(self, user):
        """What this person may see: every list, form choice and posted id goes through it."""
        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.programme_id is not None:
            return self.in_programme(scope.programme_id)
        if scope.organisation_id is not None:
            return self.for_organisation(scope.organisation_id)
        return self.none()

    def in_programme(self, programme_id: int):
        return self.filter(**{self.programme_field: programme_id})

    def for_organisation(self, organisation_id: int):
        return self.none()


class ReferenceQuerySet(models.QuerySet):
    """Reference data shared by every programme (the five rightsholder groups): anyone sees it."""

    def visible_to(self, user):
        return self

    def get_by_natural_key(self, code: str):
        return self.get(code=code)
