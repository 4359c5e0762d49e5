"""E-mails about proposals, each to the people who need to act, each with a link. Called by the
services through `transaction.on_commit`, so nothing is sent for a change that rolled back."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from ccop.models import User

from .models import Proposal


def _link(proposal: Proposal) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("proposals:proposal-detail", args=[proposal.pk])


def _staff_of(organisation_ids) -> list[User]:
    return list(
        User.objects.filter(
            organisation_id__in=organisation_ids, role=User.Role.GRANTEE_STAFF, is_active=True
        ).exclude(email="")
    )


def _programme_people(proposal: Proposal, role: str) -> list[User]:
    return list(
        User.objects.filter(
            role=role, is_active=True, country_programme_id=proposal.cop.country_programme_id
        ).exclude(email="")
    )


def _one_line(text: str) -> str:
    """Any run of spaces and line breaks as one space: a subject is one header line."""
    return " ".join(str(text).split())


def _send(template: str, recipients: list[User], context: dict) -> int:
    """One message per person, in the person's preferred language. The templates are plain text
    (not HTML-escaped); their first line is the subject, where names are put on one line so that
    a name with a line break can neither end the subject early nor add a header."""
    messages = []
    seen = set()
    context = {**context, "subject_cop": _one_line(context["proposal"].cop.name)}
    for person in recipients:
        if person.email in seen:
            continue
        seen.add(person.email)
        with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
            body = render_to_string(f"emails/{template}.txt", {**context, "person": person})
            subject, _, text = body.partition("\n")
        messages.append(
            (_one_line(subject), text.strip() + "\n", settings.DEFAULT_FROM_EMAIL, [person.email])
        )
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def endorsement_requested(proposal: Proposal, organisation_ids) -> int:
    return _send(
        "endorsement_requested", _staff_of(organisation_ids), {"proposal": proposal, "link": _link(proposal)}
    )


def proposal_submitted(proposal: Proposal) -> int:
    applicant_ids = [a.organisation_id for a in proposal.applicants.all()]
    recipients = (
        _staff_of(applicant_ids)
        + _programme_people(proposal, User.Role.FACILITATOR)
        + _programme_people(proposal, User.Role.COMMITTEE_MEMBER)
    )
    return _send("proposal_submitted", recipients, {"proposal": proposal, "link": _link(proposal)})


def revision_requested(proposal: Proposal, comment: str) -> int:
    applicant_ids = [a.organisation_id for a in proposal.applicants.all()]
    return _send(
        "revision_requested",
        _staff_of(applicant_ids) + _programme_people(proposal, User.Role.FACILITATOR),
        {"proposal": proposal, "comment": comment, "link": _link(proposal)},
    )


def decision_made(proposal: Proposal) -> int:
    applicant_ids = [a.organisation_id for a in proposal.applicants.all()]
    return _send(
        "decision_made",
        _staff_of(applicant_ids) + _programme_people(proposal, User.Role.FACILITATOR),
        {"proposal": proposal, "decision": proposal.decision, "link": _link(proposal)},
    )
