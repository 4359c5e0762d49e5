"""The core models: memberships over time, names in the local language, database constraints."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from ccop.models import CoPPhase, Membership, Organisation
from tests.factories import (
    CoPFactory,
    CountryProgrammeFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

JOINED = datetime.date(2023, 1, 1)
LEFT = datetime.date(2023, 6, 30)


# --------------------------------------------------------------------------- Membership


@pytest.mark.parametrize(
    ("on", "active"),
    [
        (datetime.date(2022, 12, 31), False),
        (JOINED, True),
        (datetime.date(2023, 3, 15), True),
        (LEFT, True),
        (datetime.date(2023, 7, 1), False),
    ],
)
def test_a_membership_is_active_from_joining_to_leaving_inclusive(on, active):
    membership = MembershipFactory(joined_on=JOINED, left_on=LEFT)

    assert membership.is_active(on) is active
    assert Membership.objects.filter(Membership.active_q(on), pk=membership.pk).exists() is active


def test_a_membership_without_a_leaving_date_stays_active():
    membership = MembershipFactory(joined_on=JOINED, left_on=None)

    assert membership.is_active()
    assert membership.is_active(datetime.date(2099, 1, 1))
    assert Membership.objects.filter(Membership.active_q(), pk=membership.pk).exists()


def test_active_q_defaults_to_today():
    today = timezone.localdate()
    left_yesterday = MembershipFactory(left_on=today - datetime.timedelta(days=1))
    leaving_today = MembershipFactory(left_on=today)
    joining_tomorrow = MembershipFactory(joined_on=today + datetime.timedelta(days=1))

    active = set(Membership.objects.filter(Membership.active_q()).values_list("pk", flat=True))

    assert leaving_today.pk in active
    assert left_yesterday.pk not in active
    assert joining_tomorrow.pk not in active
    assert not left_yesterday.is_active()
    assert leaving_today.is_active()


def test_active_q_follows_a_relation_with_a_prefix():
    membership = MembershipFactory(joined_on=JOINED, left_on=LEFT)
    cop = membership.cop

    on_day = Organisation.objects.filter(
        Membership.active_q(datetime.date(2023, 2, 1), prefix="memberships__"), memberships__cop=cop
    )
    after = Organisation.objects.filter(
        Membership.active_q(datetime.date(2023, 8, 1), prefix="memberships__"), memberships__cop=cop
    )

    assert list(on_day) == [membership.organisation]
    assert list(after) == []


def test_cop_active_memberships_leave_out_former_members():
    cop = CoPFactory()
    current = MembershipFactory(cop=cop)
    MembershipFactory(cop=cop, left_on=timezone.localdate() - datetime.timedelta(days=1))

    assert list(cop.active_memberships()) == [current]


def test_the_database_refuses_a_membership_left_before_it_joined():
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(joined_on=JOINED, left_on=JOINED - datetime.timedelta(days=1))

    assert not Membership.objects.exists()


def test_membership_clean_explains_leaving_before_joining():
    membership = MembershipFactory.build(joined_on=JOINED, left_on=JOINED - datetime.timedelta(days=1))

    with pytest.raises(ValidationError) as excinfo:
        membership.clean()

    assert "left_on" in excinfo.value.message_dict


def test_the_database_refuses_a_second_membership_of_the_same_organisation():
    membership = MembershipFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(cop=membership.cop, organisation=membership.organisation)

    assert Membership.objects.count() == 1


def test_the_database_refuses_a_phase_that_ends_before_it_starts():
    cop = CoPFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        CoPPhase.objects.create(
            cop=cop,
            number=1,
            title="Phase I",
            starts_on=datetime.date(2024, 6, 1),
            ends_on=datetime.date(2024, 5, 31),
        )


# --------------------------------------------------------------------------- Organisation


def test_display_name_is_in_khmer_for_a_khmer_reader_when_recorded():
    organisation = OrganisationFactory(name="Women with Disabilities", name_local="ស្ត្រីពិការ")

    assert organisation.display_name("km") == "ស្ត្រីពិការ"
    assert organisation.display_name("en") == "Women with Disabilities"
    with translation.override("km"):
        assert organisation.display_name() == "ស្ត្រីពិការ"
    with translation.override("en"):
        assert organisation.display_name() == "Women with Disabilities"


def test_display_name_falls_back_to_english_without_a_local_name():
    organisation = OrganisationFactory(name="Khmer Youth Network", name_local="")

    assert organisation.display_name("km") == "Khmer Youth Network"


def test_display_name_uses_the_local_name_only_in_the_programme_language():
    laos = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")
    organisation = OrganisationFactory(country_programme=laos, name="Lao Disabled People", name_local="ລາວ")

    assert organisation.display_name("lo") == "ລາວ"
    assert organisation.display_name("km") == "Lao Disabled People"


# --------------------------------------------------------------------------- User


def test_affiliated_organisations_include_the_employer_and_other_affiliations():
    employer = OrganisationFactory()
    board = OrganisationFactory()
    person = UserFactory(organisation=employer)
    person.affiliations.add(board)

    assert person.affiliated_organisation_ids() == {employer.pk, board.pk}
    assert UserFactory(organisation=None).affiliated_organisation_ids() == set()


def test_two_people_cannot_share_an_email_but_may_both_have_none():
    UserFactory(email="same@example.org")
    UserFactory(email="")
    UserFactory(email="")

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="same@example.org")
