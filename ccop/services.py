"""Accounts without waiting: invitations by e-mail that land the person in the portal."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .errors import NotAllowed, RuleViolation
from .models import Invitation, Organisation, User
from .permissions import is_facilitator_of
from .roles import person_check_change, person_save

INVITATION_DAYS = 14


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(
    *,
    email: str,
    organisation: Organisation,
    acting_user: User,
    role: str = User.Role.GRANTEE_STAFF,
    first_name: str = "",
    last_name: str = "",
    base_url: str = "",
) -> tuple[Invitation, str]:
    """A facilitator of the organisation's programme invites a person; returns the invitation
    and the link sent by e-mail (the link is not stored). Who may give which role is
    `roles.person_check_change`: a facilitator invites grantee staff only."""
    if not is_facilitator_of(acting_user, organisation.country_programme_id):
        raise NotAllowed(_("Only the programme's facilitators can invite people to this organisation."))
    person_check_change(acting_user=acting_user, person=_invited(organisation, role), stored=None)
    email = User.objects.normalize_email(email).strip()
    if User.objects.filter(email__iexact=email).exists():
        raise RuleViolation(
            _("%(email)s already has an account: they can log in or reset their password.")
            % {"email": email},
            code="account_exists",
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            first_name=first_name,
            last_name=last_name,
            organisation=organisation,
            role=role,
            token_sha256=_hash(token),
            invited_by=acting_user,
            expires_at=timezone.now() + datetime.timedelta(days=INVITATION_DAYS),
        )
        link = base_url + reverse("invitation-accept", args=[token])
        context = {"invitation": invitation, "link": link, "days": INVITATION_DAYS}
        transaction.on_commit(
            lambda: send_mail(
                subject=_("You are invited to the CCoP portal"),
                message=render_to_string("emails/invitation.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[email],
            )
        )
    return invitation, link


def _invited(organisation: Organisation, role: str, **fields) -> User:
    """The person an invitation makes: committee members and facilitators work for the
    programme they were invited to, never for every programme."""
    user = User(organisation=organisation, role=role, **fields)
    if role != User.Role.GRANTEE_STAFF:
        user.country_programme_id = organisation.country_programme_id
    return user


def invitation_for_token(token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("organisation").filter(token_sha256=_hash(token)).first()
    if invitation is None or not invitation.is_usable():
        return None
    return invitation


def invitation_accept(*, token: str, username: str, password: str) -> User:
    """Create the account with the chosen password; the invitation can be used once."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token_sha256=_hash(token)).first()
        if invitation is None or not invitation.is_usable():
            raise RuleViolation(
                _(
                    "This invitation link has expired or was already used. Ask your facilitator for a new one."
                ),
                code="invitation_unusable",
            )
        if User.objects.filter(username__iexact=username).exists():
            raise RuleViolation(
                {"username": _("This user name is taken; choose another.")}, code="username_taken"
            )
        user = _invited(
            invitation.organisation,
            invitation.role,
            username=username,
            email=invitation.email,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
            preferred_language=translation.get_language() or "en",
        )
        validate_password(password, user)
        user.set_password(password)
        try:  # recorded as set by the inviter, who must still be allowed to give this role
            person_save(
                person=user, acting_user=invitation.invited_by, reason=f"invitation {invitation.pk} accepted"
            )
        except NotAllowed as exc:
            raise RuleViolation(
                _("This invitation can no longer be used. Ask your facilitator for a new one."),
                code="invitation_unusable",
            ) from exc
        invitation.accepted_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["accepted_at", "user"])
        return user
