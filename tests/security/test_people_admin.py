"""Who may set whom, tried on everyone (issue 11): every person of the scenario, as each staff
role, through the user admin's change page and password page, and the add page.

The expectation is written from DESIGN rule 6, not read from the code: a facilitator manages the
grantee staff of their own programme's organisations; nobody else is changed by anyone but a
superuser. For each person and role, the change page is posted with each "power" changed (each
other role, superuser and staff status, a role group, an affiliation) and the password page with
a new password; afterwards the person's role, staff and superuser status, groups, affiliations,
organisation, programme and password must be as before, except where the role manages the
person (then only their password may change). The superuser, posting the same, changes them: the
posts are well formed. Each request is rolled back."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse

from ccop.models import Organisation, User
from tests.admin_helpers import form_data

pytestmark = pytest.mark.django_db

STAFF = ("committee", "conflict", "fac-A", "fac-B")
NEW_PASSWORD = "a-brand-new-Pa55word"  # noqa: S105 - a test value


def state(user: User) -> tuple:
    user = User.objects.get(pk=user.pk)
    return (
        user.role,
        user.is_staff,
        user.is_superuser,
        user.organisation_id,
        user.country_programme_id,
        tuple(sorted(user.groups.values_list("pk", flat=True))),
        tuple(sorted(user.affiliations.values_list("pk", flat=True))),
        user.password,
    )


def manages(role: str, person: User, scenario) -> bool:
    """DESIGN rule 6: a facilitator manages the grantee staff of their own programme."""
    programme = {"fac-A": scenario.programme_a, "fac-B": scenario.programme_b}.get(role)
    return (
        programme is not None
        and person.role == User.Role.GRANTEE_STAFF
        and not person.is_staff
        and not person.is_superuser
        and person.organisation is not None
        and person.organisation.country_programme_id == programme.pk
    )


def powers(person: User, organisation: Organisation) -> dict[str, dict]:
    """Each change only a superuser may make, as POST fields."""
    changes = {
        f"role {role}": {"role": role, "country_programme": str(organisation.country_programme_id)}
        for role in User.Role.values
        if role != person.role
    }
    changes["superuser"] = {"is_superuser": "on", "is_staff": "on"}
    changes["role group"] = {"groups": [str(Group.objects.get(name="Facilitators").pk)]}
    changes["other group"] = {"groups": [str(Group.objects.get_or_create(name="Probe group")[0].pk)]}
    changes["affiliation"] = {"affiliations": [str(organisation.pk)]}
    return changes


def post_and_read(client, path: str, data: dict, person: User):
    with transaction.atomic():
        response = client.post(path, data)
        after = state(person)
        transaction.set_rollback(True)
    return response, after


def change_data(client, person: User) -> dict:
    page = client.get(reverse("admin:ccop_user_change", args=[person.pk]))
    if page.status_code == 200 and "adminform" in page.context and page.context["adminform"].form.fields:
        return form_data(page)
    return {"username": person.username, "role": person.role}  # a view-only page: post anyway


def test_nobody_but_a_superuser_sets_roles_powers_or_affiliations(scenario, client_for):
    people = list(User.objects.select_related("organisation").order_by("username"))
    assert len(people) >= 12  # both programmes: grantee staff, committee members, facilitators; a superuser
    problems = []
    for role in STAFF:
        own_organisation = (
            scenario.applicant_org if role != "fac-B" else Organisation.objects.get(acronym="BONE")
        )
        for person in people:
            before = state(person)
            client = client_for(role)
            change = reverse("admin:ccop_user_change", args=[person.pk])
            base = {**change_data(client, person), "change_reason": "probe"}
            for name, fields in powers(person, own_organisation).items():
                response, after = post_and_read(client_for(role), change, {**base, **fields}, person)
                if after != before:
                    problems.append(f"{role} changed {person.username}'s {name} ({response.status_code})")
            password = reverse("admin:auth_user_password_change", args=[person.pk])
            data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"}
            response, after = post_and_read(client_for(role), password, data, person)
            if after[:-1] != before[:-1]:
                problems.append(f"{role} changed {person.username}'s powers through the password page")
            if (after[-1] != before[-1]) != manages(role, person, scenario):
                what = "could not set" if manages(role, person, scenario) else "set"
                problems.append(f"{role} {what} {person.username}'s password ({response.status_code})")
    assert not problems, "\n".join(problems)


def test_nobody_but_a_superuser_creates_committee_members_facilitators_or_superusers(scenario, client_for):
    add = reverse("admin:ccop_user_add")
    problems = []
    for role in (*STAFF, "super"):
        organisation = scenario.applicant_org if role != "fac-B" else Organisation.objects.get(acronym="BONE")
        base = {
            "username": "probe.person",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "email": "probe.person@example.org",
            "organisation": str(organisation.pk),
            "country_programme": str(organisation.country_programme_id),
        }
        for new_role in User.Role.values:
            with transaction.atomic():
                client_for(role).post(add, {**base, "role": new_role})
                created = User.objects.filter(username="probe.person").first()
                transaction.set_rollback(True)
            allowed = role == "super" or (role.startswith("fac-") and new_role == User.Role.GRANTEE_STAFF)
            if (created is not None) != allowed:
                problems.append(f"{role} {'could not create' if allowed else 'created'} a {new_role}")
            elif created is not None and (created.role, created.is_superuser) != (new_role, False):
                problems.append(f"{role} created {created.role}, superuser {created.is_superuser}")
    assert not problems, "\n".join(problems)


def test_the_superuser_sets_them_all(scenario, client_for):
    """The control: the same posts change a person when a superuser sends them."""
    person = scenario.users["applicant"]
    before = state(person)
    client = client_for("super")
    change = reverse("admin:ccop_user_change", args=[person.pk])
    base = {**change_data(client, person), "change_reason": "probe"}
    for name, fields in powers(person, scenario.co_applicant_org).items():
        if name == "role group":
            continue  # role groups follow the role (ccop.roles): a grantee is in none
        response, after = post_and_read(client, change, {**base, **fields}, person)
        assert after != before, (
            name,
            response.status_code,
            response.context and response.context.get("errors"),
        )
    password = reverse("admin:auth_user_password_change", args=[person.pk])
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"}
    assert post_and_read(client, password, data, person)[1][-1] != before[-1]
