"""Every page the accessibility sweep knows (tests/browser/sweep.py, from the URL configuration),
as each role that sees it, fetched with Django's test client: its status, the number of SQL
queries and the bytes of HTML it answers with. Shared by the query-count test
(tests/test_query_counts.py, at two sizes) and `make bench` (bench/pages.py, demo and scale).

The pages point at the largest proposals of the data (most budget lines, in Voice Cambodia), so a
page about one proposal grows with the data as a list does."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.browser import sweep

# People without admin access get the admin's login page at every admin URL: only its doors
# are visited for them (as the sweep does).
ADMIN_DOORS = {"admin:index", "admin:login"}


@dataclass(frozen=True)
class Measure:
    role: str
    name: str
    label: str
    url: str
    status: int
    queries: int
    html_bytes: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.role, self.name, self.label)


def scenario() -> sweep.Scenario:
    """The sweep's objects, taken from the data: for each state, the Voice Cambodia proposal with
    the most budget lines; an open invitation; a person to reset a password for."""
    from urllib.parse import urlsplit

    from django.urls import resolve

    from activities.models import ActivityReport
    from ccop import services as ccop_services
    from ccop.models import Organisation, User
    from proposals.models import Proposal

    def largest(**filters):
        return (
            Proposal.objects.filter(cop__country_programme__code="KH", **filters)
            .annotate(n=Count("budget_lines", distinct=True))
            .order_by("-n", "pk")
            .first()
        )

    facilitator = User.objects.get(username="channary.llc")
    organisation = Organisation.objects.filter(
        country_programme=facilitator.country_programme, kind=Organisation.Kind.GRANTEE
    ).first()
    email = f"census.{User.objects.count()}@example.org"
    _, link = ccop_services.invitation_send(email=email, organisation=organisation, acting_user=facilitator)
    # Activity reports are the demo's (seed_scale does not make any yet), as in the sweep.
    reports = ActivityReport.objects.filter(grant__isnull=False).order_by("pk")
    return sweep.Scenario(
        grant=reports.first().grant if reports.exists() else None,
        report_published=reports.filter(status=ActivityReport.Status.PUBLISHED).first(),
        report_submitted=reports.filter(status=ActivityReport.Status.SUBMITTED).first(),
        report_draft=reports.filter(status=ActivityReport.Status.DRAFT).first(),
        draft=largest(status=Proposal.Status.DRAFT),
        under_review=largest(status=Proposal.Status.UNDER_REVIEW),
        approved=largest(status=Proposal.Status.APPROVED),
        submitted_with_versions=largest(versions__isnull=False, status=Proposal.Status.SUBMITTED),
        invitation_token=resolve(urlsplit(link).path).kwargs["token"],
        reset_user=User.objects.get(username="sokha.wpm"),
    )


def roles(s: sweep.Scenario) -> dict[str, object | None]:
    """The sweep's roles (tests/browser/test_sweep.py): a visitor, staff of an applicant of the
    draft, the demo's committee member and facilitator of Voice Cambodia, the superuser."""
    from ccop.models import User

    applicant_orgs = [a.organisation_id for a in s.draft.applicants.all()]
    staff = User.objects.filter(
        role=User.Role.GRANTEE_STAFF, is_active=True, organisation_id__in=applicant_orgs
    ).order_by("username")
    return {
        "visitor": None,
        "grantee staff": staff.first(),
        "committee member": User.objects.get(username="sophal.committee"),
        "facilitator": User.objects.get(username="channary.llc"),
        "superuser": User.objects.get(username="admin"),
    }


def _client(user) -> Client:
    from tests.two_factor import mark_session_verified

    client = Client()
    if user is not None:
        client.force_login(user)
        from ccop.accounts.two_factor import has_two_factor, two_factor_required

        if two_factor_required(user) or has_two_factor(user):
            mark_session_verified(client, user)
    return client


def census(pages: str | None = None, s: sweep.Scenario | None = None) -> list[Measure]:
    """Every page as every role that sees it (`pages`: a regular expression on URL names), on
    `s` (default: `scenario()` of the data as it is)."""
    import re

    s = s or scenario()
    targets = sweep.page_targets(s)
    if pages:
        targets = [t for t in targets if re.search(pages, t.name)]
    results = []
    logging.getLogger("django.request").setLevel(logging.ERROR)  # 403s and 404s are expected answers
    for role, user in roles(s).items():
        client = _client(user)
        staff = user is not None and user.is_active and user.is_staff
        for target in targets:
            if target.name.startswith("admin:") and not staff and target.name not in ADMIN_DOORS:
                continue
            connection.queries_log.clear()  # a bounded log: counts would stop when full
            ContentType.objects.clear_cache()  # every page counted as the first of its kind
            with CaptureQueriesContext(connection) as queries:
                response = client.get(target.url)
            body = b"" if response.streaming else response.content
            results.append(
                Measure(
                    role, target.name, target.label, target.url, response.status_code, len(queries), len(body)
                )
            )
    return results
