"""The three roles as Django groups with their model permissions, so the admin shows each role
what it works with. Object-level rules (which programme, which proposal, freeze, conflicts)
are checked by the permission predicates and services, not by these groups."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .models import User

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


def user_set_role(*, user: User, role: str) -> User:
    """Give a person a role: staff access to the admin for committee members and facilitators,
    and exactly the role's group."""
    with transaction.atomic():
        groups = sync_role_groups()
        user.role = role
        user.is_staff = user.is_superuser or role in ROLE_GROUPS
        user.save(update_fields=["role", "is_staff"])
        user.groups.remove(*groups.values())
        if role in groups:
            user.groups.add(groups[role])
    return user
