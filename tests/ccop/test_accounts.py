"""Accounts without waiting: invitation → password → in the portal; login, reset, home."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from ccop.models import Invitation, User
from tests.factories import (
    CountryProgrammeFactory,
    FacilitatorFactory,
    OrganisationFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def _invite(client, facilitator, organisation, email="new.person@example.org"):
    client.force_login(facilitator)
    return client.post(
        reverse("invitation-create"),
        {
            "email": email,
            "first_name": "Srey",
            "last_name": "Test",
            "organisation": organisation.pk,
            "role": "grantee_staff",
        },
    )


def _link_from_mail(message) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)


def test_invited_person_sets_a_password_and_lands_in_the_portal(client, django_capture_on_commit_callbacks):
    programme = CountryProgrammeFactory()
    facilitator = FacilitatorFactory(country_programme=programme)
    organisation = OrganisationFactory(country_programme=programme)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, facilitator, organisation)
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.org"]
    path = _link_from_mail(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    client.logout()

    page = client.get("/" + path)
    assert organisation.name in page.content.decode()
    response = client.post(
        "/" + path,
        {"username": "srey.test", "password1": "long-enough-Pa55word", "password2": "long-enough-Pa55word"},
    )
    assert response.status_code == 302 and response.url == reverse("home")
    user = User.objects.get(username="srey.test")
    assert user.organisation == organisation and user.role == User.Role.GRANTEE_STAFF
    assert client.get(reverse("home")).status_code == 200  # logged in at once, no approval step
    # The link works once.
    client.logout()
    again = client.get("/" + path)
    assert "expired or was already used" in again.content.decode()
    assert Invitation.objects.get().accepted_at is not None


def test_invitation_refuses_a_weak_password_and_keeps_the_link_usable(client):
    programme = CountryProgrammeFactory()
    facilitator = FacilitatorFactory(country_programme=programme)
    organisation = OrganisationFactory(country_programme=programme)
    from ccop.services import invitation_send

    _invitation, link = invitation_send(
        email="a@example.org", organisation=organisation, acting_user=facilitator
    )
    response = client.post(link, {"username": "a.person", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "password" in response.content.decode().lower()
    assert not User.objects.filter(username="a.person").exists()
    assert Invitation.objects.get().is_usable()


def test_only_facilitators_of_the_programme_invite(client):
    programme = CountryProgrammeFactory()
    other = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")
    organisation = OrganisationFactory(country_programme=programme)
    staff = StaffFactory(organisation=organisation)
    client.force_login(staff)
    assert client.get(reverse("invitation-create")).status_code == 403
    laos_facilitator = FacilitatorFactory(country_programme=other)
    OrganisationFactory(country_programme=other)  # they may invite to Laos organisations only
    response = _invite(client, laos_facilitator, organisation)
    assert response.status_code == 200  # the organisation is not among their choices
    assert not Invitation.objects.exists()


def test_login_logout_and_password_reset_by_email(client):
    user = StaffFactory(email="reset.me@example.org")
    response = client.post(reverse("login"), {"username": user.username, "password": "a-long-test-password"})
    assert response.status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302  # back to login
    client.post(reverse("password_reset"), {"email": "reset.me@example.org"})
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


def test_anonymous_home_redirects_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
