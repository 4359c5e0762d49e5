"""A CoP with an approved grant and the people around it, for the activities tests.

The grant row is written directly (`grant_for`): the approval service that creates grants in
production renders the official PDF, which costs a second or two per test and is tested in
tests/proposals and tests/grants. The browser journey and the permission matrix approve through
the services."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ccop.models import Membership, RightsholderGroup, User
from ccop.roles import user_set_role
from grants.models import Grant
from proposals import services as proposal_services
from proposals.models import Proposal
from tests.factories import (
    CoPFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    OrganisationFactory,
    StaffFactory,
    UserFactory,
    ready_proposal,
)


def grant_for(proposal: Proposal, approver: User) -> Grant:
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.APPROVED)
    return Grant.objects.create(
        fund=proposal.fund, proposal=proposal, amount=Decimal("1000.00"), currency="EUR", approved_by=approver
    )


def add_activity(proposal: Proposal, user, title: str, **participants) -> object:
    """A planned activity with expected participants by group code (while the proposal is a
    draft)."""
    groups = {g.code: g for g in RightsholderGroup.objects.all()}
    return proposal_services.activity_add(
        proposal=proposal,
        acting_user=user,
        title=title,
        agenda="09:00 Welcome",
        participants={groups[code]: n for code, n in participants.items()},
    )


@pytest.fixture
def world(db):
    """Programme A: a CoP with two member organisations (one staff each), an outside
    organisation's staff, a facilitator, a committee member; its approved grant with two planned
    activities. Programme B: a facilitator."""
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme, name="CoP Women")
    proposal, staff = ready_proposal(cop=cop)
    add_activity(proposal, staff[0], "Sign language workshop", pwd=12, women=8)
    planned = list(proposal.activities.order_by("order", "pk"))
    facilitator = user_set_role(
        user=FacilitatorFactory(country_programme=programme), role=User.Role.FACILITATOR
    )
    grant = grant_for(proposal, facilitator)
    outsider = StaffFactory(organisation=OrganisationFactory(country_programme=programme))
    programme_b = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")
    facilitator_b = user_set_role(
        user=FacilitatorFactory(country_programme=programme_b), role=User.Role.FACILITATOR
    )
    committee = user_set_role(user=UserFactory(country_programme=programme), role=User.Role.COMMITTEE_MEMBER)
    return SimpleNamespace(
        programme=programme,
        cop=cop,
        proposal=proposal,
        planned=planned,
        grant=grant,
        staff=staff,
        author=staff[0],
        colleague=staff[1],
        outsider=outsider,
        facilitator=facilitator,
        facilitator_b=facilitator_b,
        committee=committee,
        groups={g.code: g for g in RightsholderGroup.objects.all()},
    )


def leave(user, cop, on=None):
    Membership.objects.filter(cop=cop, organisation=user.organisation).update(
        left_on=on or datetime.date(2023, 6, 1)
    )


def complete(**extra) -> dict:
    """The fields of a report that can be submitted."""
    return {
        "title": "Community solidarity for women empowerment",
        "kind": "workshop",
        "starts_on": datetime.date(2023, 10, 29),
        "ends_on": datetime.date(2023, 10, 29),
        "province": "Rattanakiri",
        "place": "Banlung",
        "description": "Each of the five rightsholder groups shared their life story.",
        "participants_total": 40,
        **extra,
    }


def image_bytes(fmt="JPEG", size=(2400, 1800), mode="RGB", exif=None) -> bytes:
    image = Image.new(mode, size, (200, 80, 40) if mode == "RGB" else (200, 80, 40, 128))
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
