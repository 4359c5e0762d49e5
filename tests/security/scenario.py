"""The one scenario the permission matrix fills its URLs from: programme A with a CoP, an
applicant organisation, a member that is not an applicant, an outside organisation, one
proposal per state that matters (draft, submitted, under review, approved with its stored PDF),
a committee member, a committee member with a declared conflict, a facilitator; programme B
with its own facilitator, fund, CoP and proposals (a draft and an approved one), so that every
admin model has an object on each side.

Built through the services (as people would), once per module, inside a transaction that is
rolled back at the end (see conftest.py)."""

from __future__ import annotations

import datetime
import importlib
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from PIL import Image

from activities import services as activity_services
from activities.models import ActivityReport, Lesson, LessonTheme, Output
from ccop import services as ccop_services
from ccop.models import CoP, CoPPhase, CountryProgramme, Membership, Organisation, RightsholderGroup, User
from ccop.roles import user_set_role
from grants.models import Fund, Grant
from proposals import services
from proposals.models import (
    Applicant,
    BudgetLine,
    ConflictDeclaration,
    Decision,
    Endorsement,
    ExchangeRate,
    ExpectedParticipation,
    PlannedActivity,
    Proposal,
    Review,
    ReviewCriterion,
    Transition,
)
from tests.factories import (
    CoPFactory,
    CountryProgrammeFactory,
    FundFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
    UserFactory,
)

ROLES = ("anon", "applicant", "member", "outsider", "committee", "conflict", "fac-A", "fac-B", "super")
# Words only programme A's records carry (names, titles) and only programme B's: a page shown to
# one programme's people must not contain the other's.
MARKERS = {"A": ("Alpha", "Voice Cambodia"), "B": ("Bravo", "Voice Laos")}


@dataclass
class Scenario:
    users: dict[str, User | None]
    programme_a: CountryProgramme
    programme_b: CountryProgramme
    cop: CoP
    fund: Fund
    applicant_org: Organisation
    member_org: Organisation
    outside_org: Organisation
    co_applicant_org: Organisation
    proposals: dict[str, Proposal]  # draft, draft_waiting, submitted, under_review, approved, b_*
    fund_b: Fund
    invitation_token: str
    # activity reports and their files, by name (see _activities)
    activities: dict[str, models.Model] = field(default_factory=dict)
    # per admin model (app_label.model_name): the object of programme A the URLs use, and every
    # object of each programme, for the "not listed" checks
    admin_object: dict[str, models.Model] = field(default_factory=dict)
    side_a: dict[str, set] = field(default_factory=dict)
    side_b: dict[str, set] = field(default_factory=dict)

    def obj(self, name: str):
        """An object named in the matrix's `object` column."""
        if name in self.proposals:
            return self.proposals[name]
        if name in self.admin_object:
            return self.admin_object[name]
        if name in self.activities:
            return self.activities[name]
        return {"fund": self.fund, "fund-B": self.fund_b}[name]


def _proposal(*, cop, fund, title, staff, activity_title, rate=True, endorsers=None) -> Proposal:
    """A complete draft by the two applicant organisations of `staff`, endorsed by both (or by
    the `endorsers`' organisations)."""
    proposal = services.proposal_create(
        cop=cop,
        fund=fund,
        title=title,
        acting_user=staff[0],
        applicants=[s.organisation for s in staff],
        problem_analysis="People with disabilities face barriers to public services.",
        objectives="Raise awareness through community theatre.",
        provinces="Battambang",
        starts_on=datetime.date(2024, 1, 1),
        ends_on=datetime.date(2024, 6, 30),
        budget_option=Proposal.BudgetOption.FACILITATOR,
        target_groups=list(RightsholderGroup.objects.filter(code__in=["pwd", "age"])),
    )
    activity = services.activity_add(
        proposal=proposal,
        acting_user=staff[0],
        participants={RightsholderGroup.objects.get(code="pwd"): 20},
        title=activity_title,
        agenda="09:00 Welcome\n10:00 Performance\n12:00 Reflection",
        starts_on=datetime.date(2024, 3, 1),
        ends_on=datetime.date(2024, 3, 2),
        place="Battambang",
    )
    services.budget_line_add(
        proposal=proposal,
        acting_user=staff[0],
        activity=activity,
        category=BudgetLine.Category.VENUE,
        description="Venue hire",
        unit="day",
        quantity=Decimal("1"),
        unit_cost=Decimal("1000.00"),
        currency="EUR",
    )
    if rate:
        services.exchange_rate_set(
            proposal=proposal, acting_user=staff[0], currency="USD", rate=Decimal("0.92")
        )
    for person in staff if endorsers is None else endorsers:
        services.proposal_endorse(proposal=proposal, acting_user=person)
    proposal.refresh_from_db()
    return proposal


def _org(programme, acronym: str, name: str) -> Organisation:
    return OrganisationFactory(country_programme=programme, acronym=acronym, name=name)


def _refresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_related("cop", "fund").get(pk=proposal.pk)


def build() -> Scenario:
    # the five groups come from a data migration; a transactional test that ran before may have
    # flushed them (idempotent)
    importlib.import_module("ccop.migrations.0002_rightsholder_groups").create_groups(django_apps, None)
    programme_a = CountryProgrammeFactory(code="KH", name="Voice Cambodia", country="Cambodia")
    programme_b = CountryProgrammeFactory(code="LA", name="Voice Laos", country="Laos", language="lo")

    # --- programme A
    cop = CoPFactory(country_programme=programme_a, name="CoP Alpha", code="cop-alpha")
    CoPPhase.objects.create(cop=cop, number=1, title="Alpha phase I")
    fund = FundFactory(country_programme=programme_a, name="Alpha fund")
    ReviewCriterion.objects.create(fund=fund, name="Alpha relevance", max_score=5)
    applicant_org = _org(programme_a, "APP", "Alpha applicant organisation")
    co_applicant_org = _org(programme_a, "COAPP", "Alpha co-applicant organisation")
    member_org = _org(programme_a, "MEM", "Alpha member organisation")
    outside_org = _org(programme_a, "OUT", "Alpha outside organisation")
    for organisation in (applicant_org, co_applicant_org, member_org):
        MembershipFactory(cop=cop, organisation=organisation)

    applicant = StaffFactory(last_name="Alphason", username="applicant", organisation=applicant_org)
    co_applicant = StaffFactory(last_name="Alphason", username="co-applicant", organisation=co_applicant_org)
    member = StaffFactory(last_name="Alphason", username="member", organisation=member_org)
    outsider = StaffFactory(last_name="Alphason", username="outsider", organisation=outside_org)
    committee = UserFactory(last_name="Alphason", username="committee", country_programme=programme_a)
    conflict = UserFactory(last_name="Alphason", username="conflicted", country_programme=programme_a)
    fac_a = UserFactory(last_name="Alphason", username="fac-a", country_programme=programme_a)
    fac_b = UserFactory(last_name="Bravoson", username="fac-b", country_programme=programme_b)
    superuser = UserFactory(username="super", is_superuser=True, is_staff=True, role="")
    for user, role in (
        (committee, User.Role.COMMITTEE_MEMBER),
        (conflict, User.Role.COMMITTEE_MEMBER),
        (fac_a, User.Role.FACILITATOR),
        (fac_b, User.Role.FACILITATOR),
    ):
        user_set_role(user=user, role=role)  # the role's group, as in production

    staff = [applicant, co_applicant]
    draft = _proposal(cop=cop, fund=fund, title="Alpha draft", staff=staff, activity_title="Alpha draft day")
    waiting = _proposal(
        cop=cop,
        fund=fund,
        title="Alpha draft waiting for APP",
        staff=staff,
        activity_title="Alpha waiting day",
        endorsers=[co_applicant],
    )
    submitted = _proposal(
        cop=cop, fund=fund, title="Alpha submitted", staff=staff, activity_title="Alpha submitted day"
    )
    services.proposal_submit(proposal=submitted, acting_user=applicant)
    under_review = _proposal(
        cop=cop, fund=fund, title="Alpha under review", staff=staff, activity_title="Alpha review day"
    )
    services.proposal_submit(proposal=under_review, acting_user=applicant)
    services.proposal_start_review(proposal=under_review, acting_user=committee)
    services.conflict_declare(proposal=under_review, member=conflict, reason="Board member of APP")
    services.review_record(
        proposal=under_review, reviewer=committee, recommendation="approve", comment="Sound plan.", score=7
    )
    approved = _proposal(
        cop=cop, fund=fund, title="Alpha approved", staff=staff, activity_title="Alpha approved day"
    )
    services.proposal_submit(proposal=approved, acting_user=applicant)
    services.proposal_start_review(proposal=approved, acting_user=committee)
    services.proposal_approve(proposal=approved, acting_user=committee, reasons="Strong joint plan.")

    # --- programme B
    cop_b = CoPFactory(country_programme=programme_b, name="CoP Bravo", code="cop-bravo")
    CoPPhase.objects.create(cop=cop_b, number=1, title="Bravo phase I")
    fund_b = FundFactory(country_programme=programme_b, name="Bravo fund")
    ReviewCriterion.objects.create(fund=fund_b, name="Bravo relevance", max_score=5)
    staff_b = []
    for acronym in ("BONE", "BTWO"):
        organisation = _org(programme_b, acronym, f"Bravo organisation {acronym}")
        MembershipFactory(cop=cop_b, organisation=organisation)
        staff_b.append(
            StaffFactory(last_name="Bravoson", username=f"staff-{acronym.lower()}", organisation=organisation)
        )
    committee_b = UserFactory(last_name="Bravoson", username="committee-b", country_programme=programme_b)
    user_set_role(user=committee_b, role=User.Role.COMMITTEE_MEMBER)
    b_draft = _proposal(
        cop=cop_b, fund=fund_b, title="Bravo draft", staff=staff_b, activity_title="Bravo draft day"
    )
    b_approved = _proposal(
        cop=cop_b, fund=fund_b, title="Bravo approved", staff=staff_b, activity_title="Bravo approved day"
    )
    services.proposal_submit(proposal=b_approved, acting_user=staff_b[0])
    services.proposal_start_review(proposal=b_approved, acting_user=committee_b)
    services.review_record(proposal=b_approved, reviewer=committee_b, recommendation="approve", score=8)
    services.conflict_declare(proposal=b_approved, member=committee_b, reason="Declared for the matrix")
    # the declaration stops committee_b; a superuser approves B's proposal
    services.proposal_approve(proposal=b_approved, acting_user=superuser, reasons="Good.")

    _invitation, link = ccop_services.invitation_send(
        email="invited@example.org", organisation=applicant_org, acting_user=fac_a
    )

    proposals = {
        name: _refresh(p)
        for name, p in {
            "draft": draft,
            "draft_waiting": waiting,
            "submitted": submitted,
            "under_review": under_review,
            "approved": approved,
            "b_draft": b_draft,
            "b_approved": b_approved,
        }.items()
    }
    scenario = Scenario(
        users={
            "anon": None,
            "applicant": applicant,
            "member": member,
            "outsider": outsider,
            "committee": committee,
            "conflict": conflict,
            "fac-A": fac_a,
            "fac-B": fac_b,
            "super": superuser,
        },
        programme_a=programme_a,
        programme_b=programme_b,
        cop=cop,
        fund=fund,
        applicant_org=applicant_org,
        member_org=member_org,
        outside_org=outside_org,
        co_applicant_org=co_applicant_org,
        proposals=proposals,
        fund_b=fund_b,
        invitation_token=link.rstrip("/").rsplit("/", 1)[-1],
    )
    _activities(scenario, staff_b=staff_b)
    _admin_objects(scenario, cop_b=cop_b, committee_b=committee_b, staff_b=staff_b)
    return scenario


def _photo_upload(name: str) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 80, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _activities(scenario: Scenario, *, staff_b) -> None:
    """Activity reports of A's approved grant in each state that matters (a draft with a photo,
    an output file and a lesson; submitted; accepted) and a draft of B's grant with a photo and
    an output file; a lesson theme of each programme."""
    applicant, fac_a = scenario.users["applicant"], scenario.users["fac-A"]
    fields = {
        "kind": "workshop",
        "starts_on": datetime.date(2024, 3, 1),
        "ends_on": datetime.date(2024, 3, 1),
        "province": "Battambang",
        "description": "Alpha participants shared their stories.",
        "participants_total": 30,
        "groups": {"pwd": 20},
    }

    def report(grant, author, title):
        return activity_services.report_create(
            grant=grant,
            acting_user=author,
            title=title,
            planned_activity=grant.proposal.activities.first(),
            **fields,
        )

    grant = scenario.proposals["approved"].grant
    draft = report(grant, applicant, "Alpha draft report")
    photo = activity_services.photo_add(
        report=draft, acting_user=applicant, upload=_photo_upload("a.jpg"), description="Alpha photo"
    )
    output = activity_services.output_add(
        acting_user=applicant,
        report=draft,
        kind="report",
        title="Alpha findings",
        upload=SimpleUploadedFile("f.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    theme_a = LessonTheme.objects.create(
        code="alpha-theme", name="Alpha theme", country_programme=scenario.programme_a
    )
    lesson = activity_services.lesson_add(
        acting_user=applicant, report=draft, stage="reflect", text="Alpha lesson", themes=[theme_a]
    )
    submitted = activity_services.report_submit(
        report=report(grant, applicant, "Alpha submitted report"), acting_user=applicant
    )
    accepted = activity_services.report_accept(
        report=activity_services.report_submit(
            report=report(grant, applicant, "Alpha accepted report"), acting_user=applicant
        ),
        acting_user=fac_a,
    )
    b_grant = scenario.proposals["b_approved"].grant
    b_report = report(b_grant, staff_b[0], "Bravo draft report")
    b_photo = activity_services.photo_add(
        report=b_report, acting_user=staff_b[0], upload=_photo_upload("b.jpg"), description="Bravo photo"
    )
    b_output = activity_services.output_add(
        acting_user=staff_b[0],
        report=b_report,
        kind="report",
        title="Bravo findings",
        upload=SimpleUploadedFile("f.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    theme_b = LessonTheme.objects.create(
        code="bravo-theme", name="Bravo theme", country_programme=scenario.programme_b
    )
    activity_services.lesson_add(
        acting_user=staff_b[0], report=b_report, stage="test", text="Bravo lesson", themes=[theme_b]
    )
    scenario.activities.update(
        {
            "grant": grant,
            "r_draft": draft,
            "r_submitted": submitted,
            "r_accepted": accepted,
            "photo": photo,
            "output": output,
            "b_grant": b_grant,
            "b_report": b_report,
            "b_photo": b_photo,
            "b_output": b_output,
        }
    )
    scenario.admin_object.update(
        {
            "activities.activityreport": draft,
            "activities.output": output,
            "activities.lesson": lesson,
            "activities.lessontheme": theme_a,
        }
    )


def _admin_objects(scenario: Scenario, *, cop_b, committee_b, staff_b) -> None:
    """For each admin model: the object of programme A its URLs use, and the objects of each
    programme (A's must never be listed to B's facilitator, and B's never to A's people)."""
    a_proposals = [p for n, p in scenario.proposals.items() if not n.startswith("b_")]
    b_proposals = [scenario.proposals[n] for n in ("b_draft", "b_approved")]
    draft = scenario.proposals["draft"]
    a_users = [u for u in scenario.users.values() if u is not None and not u.is_superuser]
    a_users = [u for u in a_users if u.username != "fac-b"]

    def of(model, proposals):
        return set(model.objects.filter(proposal__in=proposals).values_list("pk", flat=True))

    sides = {
        "ccop.countryprogramme": ([scenario.programme_a], [scenario.programme_b]),
        "ccop.organisation": (
            Organisation.objects.filter(country_programme=scenario.programme_a),
            Organisation.objects.filter(country_programme=scenario.programme_b),
        ),
        "ccop.cop": ([scenario.cop], [cop_b]),
        "ccop.membership": (scenario.cop.memberships.all(), cop_b.memberships.all()),
        "ccop.copphase": (scenario.cop.phases.all(), cop_b.phases.all()),
        "ccop.user": (a_users, [scenario.users["fac-B"], committee_b, *staff_b]),
        "grants.fund": ([scenario.fund], [scenario.fund_b]),
        "grants.grant": (
            Grant.objects.filter(proposal__in=a_proposals),
            Grant.objects.filter(proposal__in=b_proposals),
        ),
        "proposals.proposal": (a_proposals, b_proposals),
        "proposals.reviewcriterion": (
            ReviewCriterion.objects.filter(fund=scenario.fund),
            ReviewCriterion.objects.filter(fund=scenario.fund_b),
        ),
        "proposals.expectedparticipation": (
            ExpectedParticipation.objects.filter(activity__proposal__in=a_proposals),
            ExpectedParticipation.objects.filter(activity__proposal__in=b_proposals),
        ),
    }
    for model in (
        Applicant,
        BudgetLine,
        ExchangeRate,
        PlannedActivity,
        Endorsement,
        Transition,
        Decision,
        Review,
        ConflictDeclaration,
    ):
        label = model._meta.label_lower
        sides[label] = (
            model.objects.filter(pk__in=of(model, a_proposals)),
            model.objects.filter(pk__in=of(model, b_proposals)),
        )
    a_cop, b_cop = {"cop": scenario.cop}, {"cop": cop_b}
    for model in (ActivityReport, Output, Lesson):
        sides[model._meta.label_lower] = (model.objects.filter(**a_cop), model.objects.filter(**b_cop))
    sides["activities.lessontheme"] = (
        LessonTheme.objects.filter(country_programme=scenario.programme_a),
        LessonTheme.objects.filter(country_programme=scenario.programme_b),
    )
    for label, (a_side, b_side) in sides.items():
        scenario.side_a[label] = {o.pk for o in a_side}
        scenario.side_b[label] = {o.pk for o in b_side}
        assert scenario.side_a[label] and scenario.side_b[label], f"the scenario has no {label} on a side"

    approved = scenario.proposals["approved"]
    under_review = scenario.proposals["under_review"]
    scenario.admin_object.update(_login_records(scenario))
    scenario.admin_object.update(
        {
            "auth.group": Group.objects.get(name="Facilitators"),
            "ccop.countryprogramme": scenario.programme_a,
            "ccop.rightsholdergroup": RightsholderGroup.objects.order_by("pk").first(),
            "ccop.organisation": scenario.applicant_org,
            "ccop.cop": scenario.cop,
            "ccop.membership": Membership.objects.get(cop=scenario.cop, organisation=scenario.applicant_org),
            "ccop.copphase": scenario.cop.phases.get(),
            "ccop.user": scenario.users["applicant"],
            "grants.fund": scenario.fund,
            "grants.grant": approved.grant,
            "proposals.proposal": draft,
            "proposals.budgetline": draft.budget_lines.get(),
            "proposals.plannedactivity": draft.activities.get(),
            "proposals.applicant": draft.applicants.get(organisation=scenario.co_applicant_org),
            "proposals.exchangerate": draft.exchange_rates.get(),
            "proposals.expectedparticipation": ExpectedParticipation.objects.get(activity__proposal=draft),
            "proposals.endorsement": draft.endorsements.filter(organisation=scenario.applicant_org).first(),
            "proposals.transition": under_review.transitions.order_by("pk").first(),
            "proposals.decision": approved.decision,
            "proposals.review": under_review.reviews.get(),
            "proposals.reviewcriterion": ReviewCriterion.objects.get(fund=scenario.fund),
            "proposals.conflictdeclaration": under_review.conflicts.get(),
        }
    )


def _login_records(scenario: Scenario) -> dict[str, models.Model]:
    """Two-step login devices (every admin user has a confirmed authenticator; the applicant
    backup codes) and login throttling records, when those apps are installed."""
    objects: dict[str, models.Model] = {}
    if django_apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for user in scenario.users.values():
            if user is not None and (user.is_staff or user.is_superuser):
                device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
                if user.username == "committee":
                    objects["otp_totp.totpdevice"] = device
        backup = StaticDevice.objects.create(user=scenario.users["applicant"], name="backup codes")
        backup.token_set.create(token="1234567890")
        objects["otp_static.staticdevice"] = backup
    if django_apps.is_installed("axes"):
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        seen = {"username": "applicant", "ip_address": "10.0.0.1", "user_agent": "phone", "path_info": "/"}
        objects["axes.accessattempt"] = AccessAttempt.objects.create(
            **seen, http_accept="*/*", get_data="", post_data="", failures_since_start=1
        )
        objects["axes.accesslog"] = AccessLog.objects.create(**seen, http_accept="*/*")
        objects["axes.accessfailurelog"] = AccessFailureLog.objects.create(**seen, http_accept="*/*")
    return objects
