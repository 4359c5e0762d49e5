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
from .roles import user_set_role

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
    and the link sent by e-mail (the link is not stored)."""
    if not is_facilitator_of(acting_user, organisation.country_programme_id):
        raise NotAllowed(_("Only the programme's facilitators can invite people to this organisation."))
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
        user = User(
            username=username,
            email=invitation.email,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
            organisation=invitation.organisation,
            preferred_language=translation.get_language() or "en",
        )
        if invitation.role != User.Role.GRANTEE_STAFF:
            # Committee members and facilitators work for the programme they were invited to,
            # never for every programme.
            user.country_programme_id = invitation.organisation.country_programme_id
        validate_password(password, user)
        user.set_password(password)
        user.save()
        user_set_role(user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["accepted_at", "user"])
        return user
