"""factory_boy factories for the domain. `ready_proposal()` builds a proposal that passes every
submission check, so a test can take one piece away and see the refusal."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from ccop.models import CoP, CountryProgramme, Membership, Organisation, RightsholderGroup, User
from grants.models import Fund
from proposals import services
from proposals.models import BudgetLine, Proposal


class CountryProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CountryProgramme
        django_get_or_create = ["code"]

    code = "KH"
    name = "Voice Cambodia"
    country = "Cambodia"
    language = "km"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    acronym = factory.Sequence(lambda n: f"ORG{n}")
    name = factory.Sequence(lambda n: f"Grantee organisation {n}")
    kind = Organisation.Kind.GRANTEE
    country_programme = factory.SubFactory(CountryProgrammeFactory)


class CoPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoP
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"cop-{n}")
    name = factory.Sequence(lambda n: f"CoP {n}")
    country_programme = factory.SubFactory(CountryProgrammeFactory)
    domain = "Shared key issue"
    status = CoP.Status.ACTIVE

    @factory.post_generation
    def rightsholder_groups(self, create, extracted, **kwargs):
        if create:
            self.rightsholder_groups.set(extracted or RightsholderGroup.objects.filter(code="pwd"))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    cop = factory.SubFactory(CoPFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    joined_on = datetime.date(2023, 1, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = "Demo"
    last_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password("a-long-test-password")
    role = User.Role.GRANTEE_STAFF


class StaffFactory(UserFactory):
    """Grantee staff of an organisation."""

    organisation = factory.SubFactory(OrganisationFactory)


class CommitteeMemberFactory(UserFactory):
    role = User.Role.COMMITTEE_MEMBER
    is_staff = True
    country_programme = factory.SubFactory(CountryProgrammeFactory)


class FacilitatorFactory(UserFactory):
    role = User.Role.FACILITATOR
    is_staff = True
    country_programme = factory.SubFactory(CountryProgrammeFactory)


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund

    name = factory.Sequence(lambda n: f"CCoP fund {n}")
    country_programme = factory.SubFactory(CountryProgrammeFactory)
    currency = "EUR"
    accepted_currencies = "EUR,USD,KHR"
    ceiling = Decimal("50000.00")
    opens_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    closes_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))


def grantee_with_staff(cop: CoP, acronym: str | None = None) -> User:
    """A grantee organisation, an active member of `cop`, and one of its staff."""
    organisation = OrganisationFactory(
        country_programme=cop.country_programme, **({"acronym": acronym} if acronym else {})
    )
    MembershipFactory(cop=cop, organisation=organisation)
    return StaffFactory(organisation=organisation)


def ready_proposal(
    *,
    fund: Fund | None = None,
    cop: CoP | None = None,
    amount: Decimal = Decimal("1000.00"),
    endorse: bool = True,
    applicants: int = 2,
) -> tuple[Proposal, list[User]]:
    """A complete draft by `applicants` grantee members (each with one staff), endorsed by each
    of them unless `endorse` is False; its budget is one EUR line of `amount`."""
    programme = CountryProgrammeFactory()
    cop = cop or CoPFactory(country_programme=programme)
    fund = fund or FundFactory(country_programme=programme)
    staff = [grantee_with_staff(cop) for _ in range(applicants)]
    proposal = services.proposal_create(
        cop=cop,
        fund=fund,
        title="Amplify the voice of the community through theatre",
        acting_user=staff[0],
        applicants=[s.organisation for s in staff],
        problem_analysis="Elderly people and people with disabilities face barriers.",
        objectives="Raise awareness through community theatre.",
        provinces="Battambang",
        starts_on=datetime.date(2024, 1, 1),
        ends_on=datetime.date(2024, 6, 30),
        budget_option=Proposal.BudgetOption.FACILITATOR,
        target_groups=list(RightsholderGroup.objects.filter(code__in=["pwd", "age"])),
    )
    activity = services.activity_add(
        proposal=proposal,
        acting_user=staff[0],
        title="Big performance day",
        agenda="09:00 Welcome\n10:00 Performance\n12:00 Reflection",
        starts_on=datetime.date(2024, 3, 1),
        ends_on=datetime.date(2024, 3, 2),
        place="Battambang",
    )
    services.budget_line_add(
        proposal=proposal,
        acting_user=staff[0],
        activity=activity,
        category=BudgetLine.Category.VENUE,
        description="Venue hire",
        unit="day",
        quantity=Decimal("1"),
        unit_cost=amount,
        currency="EUR",
    )
    if endorse:
        for person in staff:
            services.proposal_endorse(proposal=proposal, acting_user=person)
    proposal.refresh_from_db()
    return proposal, staff


def under_review(**kwargs) -> tuple[Proposal, list[User], User]:
    """A proposal under review and a committee member of its programme who may decide it."""
    proposal, staff = ready_proposal(**kwargs)
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    member = CommitteeMemberFactory(country_programme=proposal.cop.country_programme)
    services.proposal_start_review(proposal=proposal, acting_user=member)
    proposal.refresh_from_db()
    return proposal, staff, member
