"""`visible_to(user)` of the activities app (see `ccop.scoping`): a report, its parts, its
outputs and lessons are visible where their CoP is — the facilitators and committee members of
the CoP's programme, and the staff of the organisations that are or were members of the CoP."""

from __future__ import annotations

from django.db.models import Q

from ccop.querysets import member_cop_ids
from ccop.scoping import ScopedQuerySet


class CopScopedQuerySet(ScopedQuerySet):
    """A row that belongs to one CoP through `cop_path`."""

    cop_path = "cop"

    @property
    def programme_field(self):
        return f"{self.cop_path}__country_programme"

    def for_organisation(self, organisation_id):
        return self.filter(**{f"{self.cop_path}_id__in": member_cop_ids(organisation_id)})


class ReferenceQuerySet(CopScopedQuerySet):
    """Reference records carry a `reference` (their natural key in the fixtures)."""

    def get_by_natural_key(self, reference: str):
        return self.get(reference=reference)


class ActivityReportQuerySet(ReferenceQuerySet):
    def published(self):
        return self.filter(status="published")


class ReportPartQuerySet(CopScopedQuerySet):
    """A report's participants, stakeholders, photos and workflow steps: visible with it."""

    cop_path = "report__cop"


class ReportParticipationQuerySet(ReportPartQuerySet):
    def get_by_natural_key(self, reference: str, group_code: str):
        return self.get(report__reference=reference, rightsholder_group__code=group_code)


class StakeholderQuerySet(ReportPartQuerySet):
    def get_by_natural_key(self, reference: str, name: str):
        return self.get(report__reference=reference, name=name)


class PublishableQuerySet(ReferenceQuerySet):
    def published(self):
        """Published by a facilitator, or transcribed from a published source."""
        return self.filter(Q(published_at__isnull=False) | ~Q(source=""))


class LessonThemeQuerySet(ScopedQuerySet):
    """The shared themes (no programme) and those of the person's programme (grantee staff: their
    organisation's programme)."""

    programme_field = "country_programme"

    def get_by_natural_key(self, code: str):
        return self.get(code=code)

    def in_programme(self, programme_id: int):
        return self.filter(Q(country_programme__isnull=True) | Q(country_programme_id=programme_id))

    def for_organisation(self, organisation_id):
        return self.filter(
            Q(country_programme__isnull=True) | Q(country_programme__organisations__pk=organisation_id)
        )
