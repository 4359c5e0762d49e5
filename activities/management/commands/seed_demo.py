"""Load the demo: the reference data of the seed documents (fixtures: programmes, organisations,
CoPs and members, the booklet's activities, outputs and lessons), the CCoP fund, fictional demo
users, one proposal per Cambodian CoP in a spread of workflow states (demo budget figures), and
the activity reports of the approved demo grants. Idempotent: a second run changes nothing.

It lives in `activities`, the top app, because it builds on every app. Proposals and reports go
through the domain API (create, endorse, submit, review, approve, report...), so the demo obeys
the same rules as every other way in."""

from __future__ import annotations

import datetime
from base64 import b32decode
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from activities import demo_data
from activities import services as activity_services
from activities.models import ActivityReport, Lesson, Output, Stakeholder
from ccop.accounts import two_factor
from ccop.models import CoP, CountryProgramme, Membership, Organisation, RightsholderGroup, User
from ccop.roles import sync_role_groups, user_set_role
from grants.models import Fund
from proposals import services
from proposals.models import Proposal, ReviewCriterion

DEMO_PASSWORD = "ccop-demo-2026"  # documented in the README; demo data only
FUND_NAME = "CCoP fund"
RATES = {"USD": Decimal("0.92"), "KHR": Decimal("0.00023")}
# The reference data (fixtures/README.md): `manage.py loaddata` these by name.
FIXTURES = ("reference_programmes", "reference_cops", "booklet")
CRITERIA = [
    ("Relevance to the rightsholder groups", "Does it answer a need the rightsholder groups named?"),
    ("Joint ownership by the members", "Did the members co-create it; does each have a role?"),
    ("Feasibility of the activities", "Dates, places, agendas and partners realistic?"),
    ("Value for money of the budget", "Costs plausible and linked to the activities?"),
]  # the annual Linking & Learning reflection where CoPs formed


class Command(BaseCommand):
    help = "Load the demo data from the seed documents (idempotent)."

    def handle(self, *args, **options):
        # The demo's people are fictional: keep the notification e-mails of the walk-through
        # in memory instead of printing dozens of them.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
            transaction.atomic(),
        ):
            sync_role_groups()
            self.load_reference_data()
            programmes = {p.code: p for p in CountryProgramme.objects.all()}
            users = self.users(programmes)
            self.two_factor()
            fund = self.fund(programmes["KH"])
            for data in demo_data.DEMO_PROPOSALS:
                cop = CoP.objects.get(code=data["code"])
                self.proposal(cop, data, fund, users)
            self.reports(users)
        self.stdout.write(self.style.SUCCESS(self.summary(fund)))

    def load_reference_data(self) -> None:
        """`loaddata` the fixtures. Loading them again resets the booklet's records to the
        fixture, links to the demo grants included: those links (made once through
        `report_attach_to_grant`, with their history) are put back as they were."""
        attached = list(
            ActivityReport.objects.filter(
                reference__in=demo_data.BOOKLET_DELIVERS, grant__isnull=False
            ).values("pk", "grant_id", "planned_activity_id")
        )
        call_command("loaddata", *FIXTURES, verbosity=0)
        for row in attached:
            ActivityReport.objects.filter(pk=row["pk"]).update(
                grant_id=row["grant_id"], planned_activity_id=row["planned_activity_id"]
            )
        # loaddata saves raw (no history): give each loaded record its first history row, so the
        # audit trail and the admin's history pages know where it came from.
        for model in (Organisation, CoP, Membership, ActivityReport, Stakeholder, Output, Lesson):
            missing = list(model.objects.exclude(pk__in=model.history.values("id")))
            model.history.bulk_history_create(
                missing, default_change_reason="loaded from the reference fixtures"
            )

    def users(self, programmes) -> dict[str, User]:
        users = {}
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"email": "admin@example.org", "first_name": "Demo", "last_name": "Administrator"},
        )
        if created:
            admin.is_superuser = admin.is_staff = True
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        for data in demo_data.DEMO_USERS:
            users[data["username"]] = self.user(
                data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                organisation=data["organisation"],
                programme=programmes[data["programme"]],
                affiliations=data["affiliations"],
            )
        return users

    def user(self, username, *, role, organisation, programme, affiliations=(), **names) -> User:
        user, created = User.objects.get_or_create(username=username, defaults=names)
        if created:
            user.set_password(DEMO_PASSWORD)
        user.organisation = Organisation.objects.get(acronym=organisation) if organisation else None
        user.country_programme = programme if role != User.Role.GRANTEE_STAFF else None
        user.save()
        user.affiliations.set(Organisation.objects.filter(acronym__in=affiliations))
        return user_set_role(user=user, role=role)

    def two_factor(self) -> None:
        """The demo secret and backup codes (demo_data.DEMO_TOTP_SECRET, DEMO_BACKUP_CODES) for
        every demo user whose role needs two-step login, unless they set up their own."""
        key = b32decode(demo_data.DEMO_TOTP_SECRET).hex()
        usernames = ["admin", *(u["username"] for u in demo_data.DEMO_USERS)]
        for user in User.objects.filter(username__in=usernames).order_by("pk"):
            if not two_factor.two_factor_required(user):
                continue
            if TOTPDevice.objects.filter(user=user, confirmed=True).exclude(key=key).exists():
                continue  # someone moved this demo account to their own phone: leave it
            TOTPDevice.objects.get_or_create(
                user=user, key=key, defaults={"name": two_factor.TOTP_DEVICE_NAME, "confirmed": True}
            )
            backup, _ = StaticDevice.objects.get_or_create(
                user=user, defaults={"name": two_factor.BACKUP_DEVICE_NAME, "confirmed": True}
            )
            for code in demo_data.DEMO_BACKUP_CODES:
                StaticToken.objects.get_or_create(device=backup, token=code)

    def staff_of(self, organisation: Organisation) -> User:
        """A fictional staff member of an applicant organisation the demo users do not cover."""
        existing = (
            User.objects.filter(organisation=organisation, role=User.Role.GRANTEE_STAFF)
            .order_by("pk")
            .first()
        )
        if existing:
            return existing
        slug = organisation.acronym.lower().replace("&", "").replace(" ", "")
        return self.user(
            f"staff.{slug}",
            first_name="Demo staff",
            last_name=organisation.acronym,
            email=f"staff.{slug}@example.org",
            role=User.Role.GRANTEE_STAFF,
            organisation=organisation.acronym,
            programme=organisation.country_programme,
        )

    def fund(self, programme) -> Fund:
        fund, _ = Fund.objects.get_or_create(
            name=FUND_NAME,
            defaults={
                "country_programme": programme,
                "currency": "EUR",
                "accepted_currencies": "EUR,USD,KHR",
                "ceiling": Decimal("50000.00"),
                "opens_on": datetime.date(2023, 3, 21),
                # The real fund ran in 2023-2024; the demo keeps it open so proposals can be filed.
                "closes_on": datetime.date(2027, 12, 31),
                "description": "Joint grantee partner follow-up activities born from Voice Linking "
                "& Learning, requested by at least two grantees (memo of EUR 50K).",
            },
        )
        for order, (name, guidance) in enumerate(CRITERIA, start=1):
            ReviewCriterion.objects.get_or_create(
                fund=fund, name=name, defaults={"guidance": guidance, "max_score": 5, "order": order}
            )
        return fund

    # ----------------------------------------------------------------------- proposals

    def proposal(self, cop: CoP, data, fund: Fund, users) -> Proposal | None:
        if Proposal.objects.filter(cop=cop, fund=fund, is_demo=True).exists():
            return None  # already seeded: the demo never rewrites a proposal's history
        memberships = list(cop.memberships.select_related("organisation"))
        grantees = [m.organisation for m in memberships if m.organisation.is_grantee]
        lead = next(m.organisation for m in memberships if m.role == m.Role.LEAD)
        grantees.sort(key=lambda o: o != lead)
        staff = [self.staff_of(o) for o in grantees]
        author = staff[0]
        activities_data = data["activities"]
        first_start = min((a["start"] for a in activities_data if a["start"]), default=None)
        last_end = max((a["end"] for a in activities_data if a["end"]), default=None)
        proposal = services.proposal_create(
            cop=cop,
            fund=fund,
            title=data["project_title"],
            acting_user=author,
            applicants=grantees,
            phase=cop.phases.order_by("-number").first(),
            problem_analysis=data["problem_analysis"],
            objectives="\n".join(f"- {o}" for o in data["objectives"]),
            provinces=data["provinces"],
            starts_on=first_start or datetime.date(2024, 1, 1),
            ends_on=last_end or datetime.date(2024, 12, 31),
            budget_option=Proposal.BudgetOption.FACILITATOR,
            target_groups=list(cop.rightsholder_groups.all()),
            is_demo=True,
        )
        groups = {g.code: g for g in RightsholderGroup.objects.all()}
        activities = []
        for order, item in enumerate(activities_data):
            activities.append(
                services.activity_add(
                    proposal=proposal,
                    acting_user=author,
                    title=item["title"],
                    starts_on=item["start"],
                    ends_on=item["end"],
                    place=item["place"],
                    agenda=item["agenda"],
                    order=order,
                    participants={groups[code]: n for code, n in item["participants"].items()},
                )
            )
        lines = demo_data.DEMO_BUDGETS[data["code"]]
        for currency in sorted({line["currency"] for line in lines} - {fund.currency}):
            services.exchange_rate_set(
                proposal=proposal, acting_user=author, currency=currency, rate=RATES[currency]
            )
        for order, line in enumerate(lines):
            services.budget_line_add(
                proposal=proposal,
                acting_user=author,
                activity=activities[line["activity"]],
                category=line["category"],
                description=line["description"],
                unit=line["unit"],
                quantity=line["quantity"],
                unit_cost=line["unit_cost"],
                currency=line["currency"],
                order=order,
            )
        self.advance(proposal, demo_data.DEMO_STATES[data["code"]], staff, users)
        return proposal

    def advance(self, proposal: Proposal, state: str, staff: list[User], users) -> None:
        """Walk the proposal through the workflow to its demo state, as real people would."""
        if state == "draft":
            services.proposal_endorse(proposal=proposal, acting_user=staff[0])
            return
        for person in staff:
            services.proposal_endorse(proposal=proposal, acting_user=person)
        services.proposal_submit(proposal=proposal, acting_user=staff[0])
        if state == "submitted":
            return
        committee = users["sophal.committee"]
        services.proposal_start_review(proposal=proposal, acting_user=committee)
        if state == "under_review":
            return
        if state == "revision_requested":
            services.proposal_request_revision(
                proposal=proposal,
                acting_user=committee,
                comment="Please add the questionnaire's draft and split the interview costs by province.",
            )
        elif state == "approved":
            services.review_record(
                proposal=proposal,
                reviewer=committee,
                recommendation="approve",
                score=8,
                comment="Strong joint ownership.",
                scores=dict.fromkeys(proposal.fund.review_criteria.all(), 4),
            )
            services.proposal_approve(
                proposal=proposal,
                acting_user=committee,
                reasons="Relevant to the rightsholder groups; realistic budget.",
            )
        elif state == "rejected":
            services.proposal_reject(
                proposal=proposal, acting_user=committee, reason="Outside the fund's purpose."
            )

    # ----------------------------------------------------------------------- activity reports

    def reports(self, users) -> None:
        """The approved demo grants deliver the booklet's activities of their CoP (attached by the
        programme's facilitator), and file the demo's own reports through the services."""
        facilitator = users["channary.llc"]
        for reference, index in demo_data.BOOKLET_DELIVERS.items():
            report = ActivityReport.objects.get(reference=reference)
            grant = self.demo_grant(report.cop)
            if grant is None or report.grant_id is not None:
                continue
            activity = grant.proposal.activities.order_by("order", "pk")[index]
            activity_services.report_attach_to_grant(
                report=report, grant=grant, planned_activity=activity, acting_user=facilitator
            )
        for data in demo_data.DEMO_REPORTS:
            cop = CoP.objects.get(code=data["cop"])
            grant = self.demo_grant(cop)
            if grant is None:
                continue
            activity = grant.proposal.activities.order_by("order", "pk")[data["activity"]]
            if ActivityReport.objects.filter(grant=grant, planned_activity=activity, is_demo=True).exists():
                continue
            author = self.staff_of(Organisation.objects.get(memberships__cop=cop, memberships__role="lead"))
            report = activity_services.report_create(
                grant=grant,
                acting_user=author,
                is_demo=True,
                title=activity.title,
                kind=data["kind"],
                planned_activity=activity,
                # The booklet dates the CoP-IP project "January - March 2024" as a whole.
                starts_on=activity.starts_on or datetime.date(2024, 1, 1),
                ends_on=activity.ends_on or datetime.date(2024, 3, 31),
                date_precision="day" if activity.starts_on else "month",
                province=activity.place,
                description=data["description"],
                participants_total=data["participants_total"],
                groups=data["groups"],
            )
            if data["state"] == "submitted":
                activity_services.report_submit(report=report, acting_user=author)

    @staticmethod
    def demo_grant(cop: CoP):
        proposal = Proposal.objects.filter(cop=cop, is_demo=True, status=Proposal.Status.APPROVED).first()
        return getattr(proposal, "grant", None)

    def summary(self, fund: Fund) -> str:
        lines = [f"{fund}: approved {fund.approved_total()}, remaining {fund.remaining()}"]
        for cop in CoP.objects.prefetch_related("memberships__organisation").order_by("name"):
            members = ", ".join(m.organisation.acronym for m in cop.memberships.all())
            lines.append(f"  {cop.name}: {members}")
        lines.append(
            f"Demo logins (password {DEMO_PASSWORD}): admin, "
            + ", ".join(u["username"] for u in demo_data.DEMO_USERS)
        )
        lines.append(
            f"Two-step login of admin, committee and facilitators: authenticator secret "
            f"{demo_data.DEMO_TOTP_SECRET}, or a backup code: {', '.join(demo_data.DEMO_BACKUP_CODES)}"
        )
        return "\n".join(lines)
