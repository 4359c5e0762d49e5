"""People and their roles.

The three roles as Django groups with their model permissions, so the admin shows each role
what it works with (`ROLE_GROUPS`, `sync_role_groups`). Object-level rules (which programme,
which proposal, freeze, conflicts) are checked by the permission predicates and services.

Who may set whom (DESIGN rule 6), for every way in (the user admin's add, change and password
pages, invitations, commands): a superuser sets anyone's role, password, organisation,
programme, affiliations and admin powers; a facilitator manages the grantee staff of their own
programme only (create them, change their details, organisation and password) and cannot give
any other role, change affiliations (they decide conflicts of interest, rule 5) or admin powers;
nobody else manages anyone. Every change is saved with who made it and why (simple-history's
`history_user` and change reason; affiliations are kept with each recorded version)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import NotAllowed, RuleViolation
from .models import Organisation, User

ROLE_GROUPS = {
    User.Role.FACILITATOR: (
        "Facilitators",
        {
            "ccop": {"organisation": "vacd", "cop": "vacd", "membership": "vacd", "copphase": "vacd",
                     "countryprogramme": "v", "rightsholdergroup": "v", "user": "vac"},
            "grants": {"fund": "vac", "grant": "v"},
            "proposals": {"proposal": "vacd", "applicant": "vacd", "plannedactivity": "vacd",
                          "budgetline": "vacd", "exchangerate": "vacd", "expectedparticipation": "v",
                          "endorsement": "v", "transition": "v", "decision": "v", "review": "v",
                          "conflictdeclaration": "v", "reviewcriterion": "vacd", "reviewscore": "v"},
            "activities": {"activityreport": "v", "reportparticipation": "v", "stakeholder": "v",
                           "reportphoto": "v", "reporttransition": "v", "output": "v", "lesson": "v",
                           "lessontheme": "vacd"},
        },
    ),
    User.Role.COMMITTEE_MEMBER: (
        "Committee members",
        {
            "ccop": {"organisation": "v", "cop": "v", "membership": "v", "copphase": "v",
                     "countryprogramme": "v", "rightsholdergroup": "v"},
            "grants": {"fund": "v", "grant": "v"},
            "proposals": {"proposal": "v", "applicant": "v", "plannedactivity": "v", "budgetline": "v",
                          "exchangerate": "v", "expectedparticipation": "v", "endorsement": "v",
                          "transition": "v", "decision": "v", "review": "va", "conflictdeclaration": "va",
                          "reviewcriterion": "v", "reviewscore": "v"},
            "activities": {"activityreport": "v", "reportparticipation": "v", "stakeholder": "v",
                           "reportphoto": "v", "reporttransition": "v", "output": "v", "lesson": "v",
                           "lessontheme": "v"},
        },
    ),
}  # fmt: skip
ACTIONS = {"v": "view", "a": "add", "c": "change", "d": "delete"}


def sync_role_groups() -> dict[str, Group]:
    """Create or update the role groups with exactly their permissions (idempotent)."""
    groups = {}
    with transaction.atomic():
        for role, (name, grants) in ROLE_GROUPS.items():
            group, _created = Group.objects.get_or_create(name=name)
            codenames = [
                (app, f"{ACTIONS[letter]}_{model}")
                for app, models in grants.items()
                for model, letters in models.items()
                for letter in letters
            ]
            permissions = [
                p
                for p in Permission.objects.filter(content_type__app_label__in=grants.keys()).select_related(
                    "content_type"
                )
                if (p.content_type.app_label, p.codename) in set(codenames)
            ]
            group.permissions.set(permissions)
            groups[role] = group
    return groups


# --------------------------------------------------------------------------- who may set whom

# The roles a facilitator manages (besides the role they may give: grantee staff): people with
# no role yet, such as an account an invitation is creating.
FACILITATOR_MANAGED_ROLES = frozenset({"", User.Role.GRANTEE_STAFF})
# A change to any of these on an existing person needs a reason, kept in the audit trail.
FIELDS_NEEDING_A_REASON = (
    "role",
    "organisation",
    "country_programme",
    "affiliations",
    "is_superuser",
    "is_staff",
    "groups",
    "user_permissions",
)
REASON_MAX_LENGTH = 100  # simple-history's history_change_reason
# Reasons recorded when none is typed (data, in English like the other recorded reasons).
REASON_PASSWORD_SET = "password set"  # noqa: S105 - a recorded reason, not a password
REASON_CREATED = "account created"


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _is_superuser(user) -> bool:
    return _active(user) and user.is_superuser


def _facilitator_programme(user) -> int | None:
    if _active(user) and user.role == User.Role.FACILITATOR:
        return user.country_programme_id
    return None


def person_programme_ids(person: User) -> set[int]:
    """The programmes a person belongs to: their own and their organisation's."""
    ids = {person.country_programme_id}
    if person.organisation_id:
        ids.add(
            Organisation.objects.filter(pk=person.organisation_id)
            .values_list("country_programme_id", flat=True)
            .first()
        )
    return ids - {None}


def roles_assignable_by(actor) -> list[str]:
    """The roles `actor` may give: every role for a superuser, grantee staff for a facilitator
    of a programme, none for anyone else."""
    if _is_superuser(actor):
        return list(User.Role.values)
    if _facilitator_programme(actor):
        return [User.Role.GRANTEE_STAFF]
    return []


def role_choices_for(actor) -> list[tuple[str, str]]:
    assignable = roles_assignable_by(actor)
    return [(value, label) for value, label in User.Role.choices if value in assignable]


def can_manage_person(actor, person: User) -> bool:
    """May `actor` change `person` (details, organisation, role, password)? A superuser anyone;
    a facilitator the grantee staff (or people without a role) of their own programme who have
    no admin powers; nobody else."""
    if _is_superuser(actor):
        return True
    programme = _facilitator_programme(actor)
    if not programme:
        return False
    return (
        person.role in FACILITATOR_MANAGED_ROLES
        and not person.is_superuser
        and not person.is_staff
        and person_programme_ids(person) == {programme}
    )


can_set_password = can_manage_person


def can_change_affiliations(actor) -> bool:
    """Affiliations decide conflicts of interest (DESIGN rule 5): a superuser's only."""
    return _is_superuser(actor)


def can_grant_admin_powers(actor) -> bool:
    """Superuser status, staff status, groups and single permissions: a superuser's only."""
    return _is_superuser(actor)


def person_check_change(
    *,
    acting_user,
    person: User,
    stored: User | None,
    affiliations_changed: bool = False,
    admin_powers_changed: bool = False,
) -> None:
    """May `acting_user` turn `stored` (None: nobody yet) into `person` as it would be saved?
    Errors: `invalid_role`; `not_allowed` (may not manage this person, or anyone);
    `role_not_allowed`; `admin_powers_not_allowed`; `affiliations_not_allowed`;
    `wrong_programme` (the person would not be grantee staff of the facilitator's programme)."""
    if person.role not in ("", *User.Role.values):
        raise RuleViolation(_("Unknown role: %(role)s") % {"role": person.role}, code="invalid_role")
    if _is_superuser(acting_user):
        return
    if not _facilitator_programme(acting_user):
        raise NotAllowed(_("Only the programme's facilitators and superusers can add or change people."))
    if stored is not None and not can_manage_person(acting_user, stored):
        raise NotAllowed(
            _(
                "Only a superuser can change committee members, facilitators, administrators "
                "and people of another programme."
            )
        )
    role_changed = stored is None or stored.role != person.role
    if role_changed and person.role not in roles_assignable_by(acting_user):
        raise NotAllowed(
            _("A facilitator can give the role of grantee staff only; other roles are set by a superuser."),
            code="role_not_allowed",
        )
    if admin_powers_changed or person.is_superuser or person.is_staff:
        raise NotAllowed(
            _("Only a superuser can give access to the administration."), code="admin_powers_not_allowed"
        )
    if affiliations_changed:
        raise NotAllowed(
            _("Only a superuser can change affiliations: they decide conflicts of interest."),
            code="affiliations_not_allowed",
        )
    if not can_manage_person(acting_user, person):
        raise NotAllowed(
            _(
                "A facilitator adds and changes the grantee staff of organisations of their own programme only."
            ),
            code="wrong_programme",
        )


def _stored_m2m(stored: User | None, name: str) -> set[int]:
    if stored is None:
        return set()
    return set(getattr(stored, name).values_list("pk", flat=True))


def _ids(objects) -> set[int] | None:
    return None if objects is None else {getattr(o, "pk", o) for o in objects}


def person_check_save(
    *,
    person: User,
    acting_user,
    reason: str = "",
    affiliations: Iterable[Organisation] | None = None,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
) -> None:
    """The checks of `person_save` without writing (forms call it to show the errors on the
    page). `None` for a many-to-many argument means "not changed here". Errors: those of
    `person_check_change`, and `reason_required` when an existing person's role, organisation,
    programme, affiliations or admin powers change without a reason."""
    stored = User.objects.filter(pk=person.pk).first() if person.pk else None
    new = {"affiliations": _ids(affiliations), "groups": _ids(groups), "user_permissions": _ids(permissions)}
    changed = {name for name, ids in new.items() if ids is not None and ids != _stored_m2m(stored, name)}
    for name in ("role", "organisation_id", "country_programme_id", "is_superuser", "is_staff"):
        before = (
            getattr(stored, name)
            if stored is not None
            else User._meta.get_field(name.removesuffix("_id")).get_default()
        )
        if getattr(person, name) != before:
            changed.add(name.removesuffix("_id"))
    person_check_change(
        acting_user=acting_user,
        person=person,
        stored=stored,
        affiliations_changed="affiliations" in changed,
        admin_powers_changed=bool(changed & {"is_superuser", "is_staff", "groups", "user_permissions"}),
    )
    if stored is not None and changed & set(FIELDS_NEEDING_A_REASON) and not reason.strip():
        raise RuleViolation(
            _(
                "Say why (kept in the audit trail): a role, organisation, programme, affiliation or access changes."
            ),
            code="reason_required",
        )


def _record(person: User, acting_user, reason: str) -> None:
    """Who and why on the history row the next save writes."""
    if acting_user is not None and _active(acting_user):
        person._history_user = acting_user
    person._change_reason = reason.strip()[:REASON_MAX_LENGTH] or None


def _apply_role_groups(person: User, groups: dict[str, Group]) -> None:
    person.groups.remove(*groups.values())
    if person.role in groups:
        person.groups.add(groups[person.role])


def person_save(
    *,
    person: User,
    acting_user,
    reason: str = "",
    affiliations: Iterable[Organisation] | None = None,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
) -> User:
    """Save a person as a form or command edited them (`person.pk` None: a new person), with
    their many-to-many fields (`None`: unchanged). Checks who may set whom against the stored
    row (locked), gives the role's group and staff status when the role changes, and writes one
    history row with who (`acting_user`; None: the system, e.g. a command) and why."""
    with transaction.atomic():
        stored_role = None
        if person.pk:
            stored_role = (
                User.objects.select_for_update().filter(pk=person.pk).values_list("role", flat=True).first()
            )
        if acting_user is not None:
            person_check_save(
                person=person,
                acting_user=acting_user,
                reason=reason,
                affiliations=affiliations,
                groups=groups,
                permissions=permissions,
            )
        elif person.role not in ("", *User.Role.values):
            raise RuleViolation(_("Unknown role: %(role)s") % {"role": person.role}, code="invalid_role")
        role_groups = sync_role_groups()
        role_changed = stored_role != person.role
        if role_changed:
            person.is_staff = person.is_superuser or person.role in ROLE_GROUPS
        person.skip_history_when_saving = True  # one history row below, with the m2m fields set
        try:
            person.save()
            if groups is not None:
                person.groups.set(groups)
            if permissions is not None:
                person.user_permissions.set(permissions)
            if role_changed or groups is not None:
                _apply_role_groups(person, role_groups)
            if affiliations is not None:
                person.affiliations.set(affiliations)
        finally:
            del person.skip_history_when_saving
        _record(person, acting_user, reason)
        person.save()
    return person


def user_set_role(*, user: User, role: str, acting_user=None, reason: str = "") -> User:
    """Give a person a role: staff access to the admin for committee members and facilitators,
    and exactly the role's group. `acting_user` None: the system (a command, the shell)."""
    with transaction.atomic():
        if acting_user is not None:
            stored = User.objects.select_for_update().get(pk=user.pk)
            candidate = User.objects.get(pk=user.pk)
            candidate.role = role
            candidate.is_staff = candidate.is_superuser or role in ROLE_GROUPS
            person_check_change(acting_user=acting_user, person=candidate, stored=stored)
        elif role not in ("", *User.Role.values):
            raise RuleViolation(_("Unknown role: %(role)s") % {"role": role}, code="invalid_role")
        groups = sync_role_groups()
        user.role = role
        user.is_staff = user.is_superuser or role in ROLE_GROUPS
        _record(user, acting_user, reason)
        user.save(update_fields=["role", "is_staff"])
        _apply_role_groups(user, groups)
    return user


def person_set_password(*, person: User, password: str | None, acting_user, reason: str = "") -> User:
    """Set another person's password (None: password login disabled) after Django's password
    validators; recorded with who and why. Error: `not_allowed` (`can_set_password`)."""
    with transaction.atomic():
        if acting_user is not None and not can_set_password(acting_user, person):
            raise NotAllowed(_("You cannot set this person's password."))
        if password is None:
            person.set_unusable_password()
        else:
            validate_password(password, person)
            person.set_password(password)
        _record(person, acting_user, reason or REASON_PASSWORD_SET)
        person.save()
    return person
