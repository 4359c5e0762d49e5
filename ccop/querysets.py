"""`visible_to(user)` of the core's models (see `ccop.scoping`). Grantee staff see their
organisation's CoPs (those it is or was a member of), the CoPs' phases and members, and the
people of their own organisation."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db.models import Q

from .scoping import ScopedQuerySet, scope_of


def member_cop_ids(organisation_id: int):
    """The CoPs an organisation is or was a member of (a subquery)."""
    membership = apps.get_model("ccop", "Membership")
    return membership.objects.filter(organisation_id=organisation_id).values("cop_id")


class CountryProgrammeQuerySet(ScopedQuerySet):
    programme_field = "pk"

    def get_by_natural_key(self, code: str):
        return self.get(code=code)

    def for_organisation(self, organisation_id):
        return self.filter(organisations__pk=organisation_id)


class OrganisationQuerySet(ScopedQuerySet):
    programme_field = "country_programme"

    def get_by_natural_key(self, acronym: str):
        return self.get(acronym=acronym)

    def for_organisation(self, organisation_id):
        membership = apps.get_model("ccop", "Membership")
        fellow_members = membership.objects.filter(cop_id__in=member_cop_ids(organisation_id))
        return self.filter(Q(pk=organisation_id) | Q(pk__in=fellow_members.values("organisation_id")))


class CoPQuerySet(ScopedQuerySet):
    programme_field = "country_programme"

    def get_by_natural_key(self, code: str):
        return self.get(code=code)

    def for_organisation(self, organisation_id):
        return self.filter(pk__in=member_cop_ids(organisation_id))


class CoPPartQuerySet(ScopedQuerySet):
    """Phases and memberships: visible with their CoP."""

    programme_field = "cop__country_programme"

    def for_organisation(self, organisation_id):
        return self.filter(cop_id__in=member_cop_ids(organisation_id))


class CoPPhaseQuerySet(CoPPartQuerySet):
    def get_by_natural_key(self, cop_code: str, number: int):
        return self.get(cop__code=cop_code, number=number)


class MembershipQuerySet(CoPPartQuerySet):
    def get_by_natural_key(self, cop_code: str, acronym: str):
        return self.get(cop__code=cop_code, organisation__acronym=acronym)


class InvitationQuerySet(ScopedQuerySet):
    programme_field = "organisation__country_programme"


class UserQuerySet(ScopedQuerySet):
    """People of a programme: those working for it (facilitators, committee members) and the
    staff of its organisations. Superusers are seen by superusers only."""

    def visible_to(self, user):
        visible = super().visible_to(user)
        if scope_of(user).everything and user.is_superuser:
            return visible
        return visible.filter(is_superuser=False)

    def in_programme(self, programme_id):
        return self.filter(
            Q(country_programme_id=programme_id) | Q(organisation__country_programme_id=programme_id)
        )

    def for_organisation(self, organisation_id):
        return self.filter(organisation_id=organisation_id)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass
