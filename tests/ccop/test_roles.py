"""Who may set whom (issue 11, DESIGN rule 6): a facilitator manages the grantee staff of their
own programme and nobody else; roles of committee members and facilitators, admin powers and
affiliations (they decide conflicts of interest, rule 5) are a superuser's; every change is on
the audit trail with who and why. Through the services (`ccop.roles`, invitations) and through
every way in of the admin: the user add and change pages, the password page, the invitation
page."""

from __future__ import annotations

import html
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from ccop import roles
from ccop.models import Invitation, User
from ccop.services import invitation_accept, invitation_send
from proposals import services
from proposals.models import Proposal
from tests.admin_helpers import admin_url, form_data, page_text, superuser
from tests.factories import (
    CountryProgrammeFactory,
    OrganisationFactory,
    StaffFactory,
    UserFactory,
    ready_proposal,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"  # noqa: S105 - the factories' password


def code_of(exc: ValidationError) -> str:
    return exc.code or exc.error_list[0].code


@pytest.fixture
def cambodia():
    return CountryProgrammeFactory(code="KH", name="Voice Cambodia")


@pytest.fixture
def laos():
    return CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")


def person(role: str, programme, **kwargs) -> User:
    """Someone with a role as production gives it (the role's group and staff status)."""
    user = UserFactory(country_programme=programme if role != User.Role.GRANTEE_STAFF else None, **kwargs)
    return roles.user_set_role(user=user, role=role)


@pytest.fixture
def people(cambodia, laos):
    khen = OrganisationFactory(country_programme=cambodia, acronym="KHEN")
    wpm = OrganisationFactory(country_programme=cambodia, acronym="WPM")
    xonphao = OrganisationFactory(country_programme=laos, acronym="XONPHAO")
    return {
        "khen": khen,
        "wpm": wpm,
        "xonphao": xonphao,
        "facilitator": person(User.Role.FACILITATOR, cambodia, username="channary.llc"),
        "laos facilitator": person(User.Role.FACILITATOR, laos, username="souksavanh.stella"),
        "committee": person(User.Role.COMMITTEE_MEMBER, cambodia, username="sophal.committee"),
        "grantee": StaffFactory(organisation=wpm, username="sokha.wpm"),
        "laos grantee": StaffFactory(organisation=xonphao, username="khamla.xonphao"),
        "superuser": superuser(),
    }


# --------------------------------------------------------------------------- the rule, as predicates


def test_who_manages_whom(people):
    facilitator, su = people["facilitator"], people["superuser"]
    assert roles.can_manage_person(facilitator, people["grantee"])
    for other in ("committee", "laos facilitator", "laos grantee", "superuser", "facilitator"):
        assert not roles.can_manage_person(facilitator, people[other]), other
        assert roles.can_manage_person(su, people[other]), other
    for nobody in ("committee", "grantee"):
        assert not roles.can_manage_person(people[nobody], people["grantee"])
    assert roles.roles_assignable_by(facilitator) == [User.Role.GRANTEE_STAFF]
    assert set(roles.roles_assignable_by(su)) == set(User.Role.values)
    assert roles.roles_assignable_by(people["committee"]) == []
    assert not roles.can_change_affiliations(facilitator) and roles.can_change_affiliations(su)


# --------------------------------------------------------------------------- through the services


@pytest.mark.parametrize(
    ("whom", "role", "code"),
    [
        ("grantee", User.Role.COMMITTEE_MEMBER, "role_not_allowed"),  # promote
        ("grantee", User.Role.FACILITATOR, "role_not_allowed"),
        ("committee", User.Role.GRANTEE_STAFF, "not_allowed"),  # demote
        ("facilitator", User.Role.COMMITTEE_MEMBER, "not_allowed"),  # herself
        ("laos grantee", User.Role.GRANTEE_STAFF, "not_allowed"),  # another programme's
    ],
)
def test_a_facilitator_cannot_promote_or_demote(people, whom, role, code):
    target = people[whom]
    before = (target.role, target.is_staff, set(target.groups.all()))
    with pytest.raises(ValidationError) as refused:
        roles.user_set_role(user=target, role=role, acting_user=people["facilitator"], reason="try")
    assert code_of(refused.value) == code
    target.refresh_from_db()
    assert (target.role, target.is_staff, set(target.groups.all())) == before


def test_a_facilitator_cannot_create_a_committee_member_facilitator_or_superuser(people):
    facilitator = people["facilitator"]
    for role, extra, code in (
        (User.Role.COMMITTEE_MEMBER, {}, "role_not_allowed"),
        (User.Role.FACILITATOR, {}, "role_not_allowed"),
        (User.Role.GRANTEE_STAFF, {"is_superuser": True}, "admin_powers_not_allowed"),
        (User.Role.GRANTEE_STAFF, {"is_staff": True}, "admin_powers_not_allowed"),
        (User.Role.GRANTEE_STAFF, {"organisation": people["xonphao"]}, "wrong_programme"),
    ):
        new = User(username=f"new-{role}-{len(extra)}", role=role, **{"organisation": people["wpm"], **extra})
        with pytest.raises(ValidationError) as refused:
            roles.person_save(person=new, acting_user=facilitator)
        assert code_of(refused.value) == code, (role, extra)
    assert not User.objects.filter(username__startswith="new-").exists()


def test_a_facilitator_cannot_set_a_committee_members_password_nor_change_affiliations(people):
    facilitator, committee, grantee = people["facilitator"], people["committee"], people["grantee"]
    with pytest.raises(ValidationError) as refused:
        roles.person_set_password(person=committee, password="another-long-pa55word", acting_user=facilitator)
    assert code_of(refused.value) == "not_allowed"
    committee.refresh_from_db()
    assert check_password(PASSWORD, committee.password)
    for target in (grantee, committee):
        with pytest.raises(ValidationError) as refused:
            roles.person_save(
                person=target, acting_user=facilitator, reason="try", affiliations=[people["khen"]]
            )
        assert code_of(refused.value) in {"affiliations_not_allowed", "not_allowed"}
        assert not target.affiliations.exists()


def test_a_facilitator_manages_their_programmes_grantee_staff(people):
    facilitator, grantee = people["facilitator"], people["grantee"]
    new = User(username="srey.new", role=User.Role.GRANTEE_STAFF, organisation=people["khen"])
    roles.person_save(person=new, acting_user=facilitator, reason="joined KHEN")
    assert not new.is_staff and new.role == User.Role.GRANTEE_STAFF
    grantee.organisation = people["khen"]
    roles.person_save(person=grantee, acting_user=facilitator, reason="moved to KHEN")
    roles.person_set_password(person=grantee, password="another-long-pa55word", acting_user=facilitator)
    grantee.refresh_from_db()
    assert grantee.organisation == people["khen"] and check_password(
        "another-long-pa55word", grantee.password
    )
    recorded = grantee.history.order_by("-history_id")[:2]
    assert [h.history_user for h in recorded] == [facilitator, facilitator]
    assert [h.history_change_reason for h in recorded] == [roles.REASON_PASSWORD_SET, "moved to KHEN"]


def test_a_superuser_sets_roles_passwords_and_affiliations_with_a_reason(people):
    su, grantee, committee = people["superuser"], people["grantee"], people["committee"]
    grantee.role = User.Role.COMMITTEE_MEMBER
    grantee.country_programme = people["facilitator"].country_programme
    with pytest.raises(ValidationError) as refused:  # a role changes: say why
        roles.person_save(person=grantee, acting_user=su)
    assert code_of(refused.value) == "reason_required"
    roles.person_save(person=grantee, acting_user=su, reason="joined the committee")
    grantee.refresh_from_db()
    assert grantee.is_staff and list(grantee.groups.values_list("name", flat=True)) == ["Committee members"]

    roles.person_save(person=committee, acting_user=su, reason="board of KHEN", affiliations=[people["khen"]])
    assert set(committee.affiliations.all()) == {people["khen"]}
    version = committee.history.latest("history_id")
    assert (version.history_user, version.history_change_reason) == (su, "board of KHEN")
    assert {a.organisation_id for a in version.affiliations.all()} == {people["khen"].pk}

    roles.user_set_role(user=committee, role=User.Role.GRANTEE_STAFF, acting_user=su, reason="left")
    committee.refresh_from_db()
    assert not committee.is_staff and not committee.groups.exists()
    roles.person_set_password(person=committee, password="another-long-pa55word", acting_user=su)
    assert committee.history.latest("history_id").history_change_reason == roles.REASON_PASSWORD_SET


def test_unknown_roles_are_refused_even_from_a_command(people):
    with pytest.raises(ValidationError) as refused:
        roles.user_set_role(user=people["grantee"], role="superhero")
    assert code_of(refused.value) == "invalid_role"


def test_invitations_follow_the_same_rule(people):
    facilitator, su = people["facilitator"], people["superuser"]
    with pytest.raises(ValidationError) as refused:
        invitation_send(
            email="new.member@example.org",
            organisation=people["khen"],
            acting_user=facilitator,
            role=User.Role.COMMITTEE_MEMBER,
        )
    assert code_of(refused.value) == "role_not_allowed"
    assert not Invitation.objects.exists()
    _invitation, link = invitation_send(
        email="new.member@example.org",
        organisation=people["khen"],
        acting_user=su,
        role=User.Role.COMMITTEE_MEMBER,
    )
    member = invitation_accept(
        token=link.rstrip("/").rsplit("/", 1)[-1], username="new.member", password=PASSWORD
    )
    assert member.is_staff and member.country_programme == people["khen"].country_programme
    assert member.history.latest("history_id").history_user == su


def test_an_invitation_a_facilitator_could_not_give_is_not_accepted(people):
    """An invitation to a committee role a facilitator sent before the rule (or after losing the
    role): the account is not created."""
    invitation, link = invitation_send(
        email="sneaky@example.org", organisation=people["khen"], acting_user=people["facilitator"]
    )
    Invitation.objects.filter(pk=invitation.pk).update(role=User.Role.COMMITTEE_MEMBER)
    with pytest.raises(ValidationError) as refused:
        invitation_accept(token=link.rstrip("/").rsplit("/", 1)[-1], username="sneaky", password=PASSWORD)
    assert code_of(refused.value) == "invitation_unusable"
    assert not User.objects.filter(username="sneaky").exists()


# --------------------------------------------------------------------------- through the admin


def snapshot(user: User):
    user.refresh_from_db()
    return (
        user.role,
        user.is_staff,
        user.is_superuser,
        user.password,
        user.organisation_id,
        user.country_programme_id,
        sorted(user.affiliations.values_list("pk", flat=True)),
        sorted(user.groups.values_list("pk", flat=True)),
    )


def test_through_the_admin_a_facilitator_changes_no_committee_member_nor_herself(client, people):
    facilitator = people["facilitator"]
    client.force_login(facilitator)
    for whom in ("committee", "facilitator"):
        target = people[whom]
        before = snapshot(target)
        url = admin_url(User, "change", target.pk)
        page = client.get(url)
        assert page.status_code == 200 and "adminform" in page.context  # seen, view only
        assert not any(not f.is_readonly for line in page.context["adminform"] for f in _fields(line))
        for change in (
            {"role": User.Role.GRANTEE_STAFF},
            {"role": User.Role.COMMITTEE_MEMBER},
            {"affiliations": []},
        ):
            data = {"username": target.username, "role": target.role, "change_reason": "try", **change}
            assert client.post(url, data).status_code == 403
        password = reverse("admin:auth_user_password_change", args=[target.pk])
        assert client.get(password).status_code == 403
        new = "another-long-pa55word"
        response = client.post(password, {"password1": new, "password2": new, "set_usable_password": "true"})
        assert response.status_code == 403
        assert snapshot(target) == before


def _fields(line):
    for fieldline in line:
        yield from fieldline


def test_through_the_admin_a_facilitator_cannot_promote_grantee_staff(client, people):
    facilitator, grantee = people["facilitator"], people["grantee"]
    client.force_login(facilitator)
    url = admin_url(User, "change", grantee.pk)
    page = client.get(url)
    form = page.context["adminform"].form
    assert [value for value, _label in form.fields["role"].choices if value] == [User.Role.GRANTEE_STAFF]
    assert "affiliations" not in form.fields and "is_superuser" not in form.fields
    assert set(form.fields["organisation"].queryset) == {people["khen"], people["wpm"]}
    before = snapshot(grantee)
    for change in (
        {"role": User.Role.COMMITTEE_MEMBER},
        {"role": User.Role.FACILITATOR},
        {"is_superuser": "on", "is_staff": "on"},
        {"affiliations": [str(people["khen"].pk)]},
        {"organisation": str(people["xonphao"].pk)},
    ):
        data = {**form_data(page), "change_reason": "try", **change}
        response = client.post(url, data)
        assert response.status_code in (200, 302), change
        assert snapshot(grantee) == before, change
    # what a facilitator may do: a grantee's details and password
    data = {**form_data(page), "organisation": str(people["khen"].pk), "change_reason": "moved to KHEN"}
    assert client.post(url, data).status_code == 302
    assert User.objects.get(pk=grantee.pk).organisation == people["khen"]
    password = reverse("admin:auth_user_password_change", args=[grantee.pk])
    new = "another-long-pa55word"
    response = client.post(password, {"password1": new, "password2": new, "set_usable_password": "true"})
    assert response.status_code == 302
    assert check_password(new, User.objects.get(pk=grantee.pk).password)


def test_through_the_admin_a_facilitator_cannot_create_a_committee_member(client, people):
    client.force_login(people["facilitator"])
    add = admin_url(User, "add")
    base = {
        "username": "new.member",
        "password1": "another-long-pa55word",
        "password2": "another-long-pa55word",
        "usable_password": "true",
        "email": "new.member@example.org",
        "organisation": str(people["khen"].pk),
    }
    for extra in (
        {"role": User.Role.COMMITTEE_MEMBER},
        {"role": User.Role.FACILITATOR},
        {"role": ""},
        {"role": User.Role.GRANTEE_STAFF, "organisation": str(people["xonphao"].pk)},
    ):
        response = client.post(add, {**base, **extra})
        assert response.status_code == 200, extra
        assert not User.objects.filter(username="new.member").exists(), extra
    response = client.post(add, {**base, "role": User.Role.GRANTEE_STAFF})
    assert response.status_code == 302
    created = User.objects.get(username="new.member")
    assert created.role == User.Role.GRANTEE_STAFF and not created.is_staff
    assert created.history.latest("history_id").history_user == people["facilitator"]


def test_through_the_invitation_page_a_facilitator_invites_grantee_staff_only(client, people):
    client.force_login(people["facilitator"])
    page = client.get(reverse("invitation-create"))
    assert [v for v, _label in page.context["form"].fields["role"].choices] == [User.Role.GRANTEE_STAFF]
    response = client.post(
        reverse("invitation-create"),
        {"email": "x@example.org", "organisation": people["khen"].pk, "role": User.Role.COMMITTEE_MEMBER},
    )
    assert response.status_code == 200 and not Invitation.objects.exists()


def audit_text(client) -> str:
    """The audit trail's people entries as read (tags and screen-reader-only words removed)."""
    page = client.get(reverse("audit-trail"), {"kind": "ccop.user"}).content.decode()
    page = page[page.index("<tbody>") : page.index("</tbody>")]
    page = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", page)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def test_clearing_an_affiliation_in_the_admin_is_a_superusers_and_is_audited(client, people):
    """The issue: a facilitator cleared a committee member's affiliation with an applicant and
    the member could then decide the proposal. Now the facilitator is refused, the member stays
    conflicted; a superuser can, with a reason, and the audit trail shows it."""
    proposal, staff = ready_proposal()
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    programme = proposal.cop.country_programme
    member = person(User.Role.COMMITTEE_MEMBER, programme, username="ratana.committee")
    applicant = staff[1].organisation
    member.affiliations.set([applicant])
    facilitator = person(User.Role.FACILITATOR, programme, username="channary")

    client.force_login(facilitator)
    url = admin_url(User, "change", member.pk)
    assert (
        client.post(url, {"username": member.username, "affiliations": [], "change_reason": "x"}).status_code
        == 403
    )
    assert set(member.affiliations.all()) == {applicant}
    with pytest.raises(ValidationError):
        services.proposal_start_review(proposal=proposal, acting_user=member)

    su = people["superuser"]
    client.force_login(su)
    data = form_data(client.get(url))
    data["affiliations"] = []
    response = client.post(url, data)
    assert response.status_code == 200 and "Say why" in page_text(response)
    assert set(member.affiliations.all()) == {applicant}
    data["change_reason"] = "Left the board of the applicant in May."
    assert client.post(url, data).status_code == 302
    assert not member.affiliations.exists()
    services.proposal_start_review(proposal=proposal, acting_user=member)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.UNDER_REVIEW

    audit = audit_text(client)
    assert "Left the board of the applicant in May." in audit
    assert f"Other affiliations: {applicant.acronym} → —" in audit


def test_the_audit_trail_shows_role_changes_and_passwords_set(client, people):
    su, grantee = people["superuser"], people["grantee"]
    client.force_login(su)
    url = admin_url(User, "change", grantee.pk)
    data = {**form_data(client.get(url)), "role": User.Role.COMMITTEE_MEMBER, "change_reason": "elected"}
    data["country_programme"] = str(people["facilitator"].country_programme_id)
    assert client.post(url, data).status_code == 302
    password = reverse("admin:auth_user_password_change", args=[grantee.pk])
    new = "another-long-pa55word"
    assert (
        client.post(password, {"password1": new, "password2": new, "set_usable_password": "true"}).status_code
        == 302
    )

    client.force_login(people["facilitator"])  # the programme's facilitators read it too
    audit = audit_text(client)
    assert "Role: Grantee staff → Committee member" in audit
    assert "Reason: elected" in audit and f"Reason: {roles.REASON_PASSWORD_SET}" in audit
    assert f"({su.username})" in audit
    client.force_login(people["laos facilitator"])  # and nobody of another programme
    assert grantee.username not in audit_text(client)


def test_a_login_writes_no_history(client, people):
    grantee = people["grantee"]
    versions = grantee.history.count()
    assert (
        client.post(reverse("login"), {"username": grantee.username, "password": PASSWORD}).status_code == 302
    )
    grantee.refresh_from_db()
    assert grantee.last_login is not None and grantee.history.count() == versions


def test_the_migration_keeps_the_current_affiliations_as_a_starting_point(people):
    """Affiliations set before they were recorded: migration 0005 writes one version with them."""
    committee = people["committee"]
    committee.skip_history_when_saving = True  # as before the affiliations were recorded
    committee.affiliations.set([people["khen"]])
    del committee.skip_history_when_saving
    migration = importlib.import_module("ccop.migrations.0005_user_affiliations_history")
    migration.record_current_affiliations(django_apps, None)
    version = committee.history.latest("history_id")
    assert version.history_change_reason == migration.BASELINE_REASON
    assert [a.organisation_id for a in version.affiliations.all()] == [people["khen"].pk]
    assert not people["grantee"].history.filter(history_change_reason=migration.BASELINE_REASON).exists()
