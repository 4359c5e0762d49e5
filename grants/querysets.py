"""`visible_to(user)` of funds and grants (see `ccop.scoping`). Grantee staff see the funds of
their organisation's programme and the grants of their organisation's CoPs."""

from __future__ import annotations

from ccop.models import Organisation
from ccop.querysets import member_cop_ids
from ccop.scoping import ScopedQuerySet


class FundQuerySet(ScopedQuerySet):
    programme_field = "country_programme"

    def for_organisation(self, organisation_id):
        programme = Organisation.objects.filter(pk=organisation_id).values("country_programme_id")
        return self.filter(country_programme_id__in=programme)


class GrantQuerySet(ScopedQuerySet):
    programme_field = "fund__country_programme"

    def for_organisation(self, organisation_id):
        return self.filter(proposal__cop_id__in=member_cop_ids(organisation_id))
