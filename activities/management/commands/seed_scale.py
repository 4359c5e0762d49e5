"""Add a scale dataset on top of the demo: at `--scale 1`, what every Voice country together
would hold (issue 13): 10 country programmes, 2,000 organisations, 400 CoPs, 5,000 proposals
(4,000 in Voice Cambodia), 110,000 budget lines, 2,900 reviews and 350 grants, with a history row
for every record, in English and Khmer.

Seeded and reproducible: the same `--seed`, `--scale` and batch give the same rows. Each run adds
one more batch (names carry the batch number), so a second run on a larger scale makes the data
grow without touching what is there (the query-count test measures pages at two sizes that way).
Rows go in with bulk inserts and `bulk_history_create`, not through the services: the services
would take hours at this size. The data still obeys the rules (two endorsing grantees on every
submitted proposal, grants within their fund's ceiling, reviewers without conflicts, frozen
approved versions with their SHA-256); approved proposals have no PDF file (the bench renders
PDFs on its own).

It lives in the top app because it fills every app below it (ccop, grants, proposals and, once
they exist, activities' own records)."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from ccop import money
from ccop.models import CoP, CountryProgramme, Membership, Organisation, RightsholderGroup, User
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
    ProposalVersion,
    Review,
    ReviewCriterion,
    ReviewScore,
    Transition,
)
from proposals.selectors import budget_summary

DEMO_PASSWORD = "ccop-demo-2026"  # noqa: S105 - the demo's documented password (README)
FULL = {"organisations": 2000, "cops": 400, "proposals": 5000, "reviews": 2900, "grants": 350}
KH_SHARE = {"organisations": 0.5, "cops": 0.6, "proposals": 0.8}
# Voice's other countries (the demo holds Cambodia and Laos).
PROGRAMMES = [
    ("ID", "Voice Indonesia", "Indonesia", "id"),
    ("PH", "Voice Philippines", "Philippines", "tl"),
    ("KE", "Voice Kenya", "Kenya", "sw"),
    ("UG", "Voice Uganda", "Uganda", "en"),
    ("TZ", "Voice Tanzania", "Tanzania", "sw"),
    ("NG", "Voice Nigeria", "Nigeria", "en"),
    ("ML", "Voice Mali", "Mali", "fr"),
    ("NE", "Voice Niger", "Niger", "fr"),
]
S = Proposal.Status
# Share of each state among the proposals; approvals are counted apart (FULL["grants"]).
STATES = [
    (S.DRAFT, 0.25),
    (S.SUBMITTED, 0.08),
    (S.UNDER_REVIEW, 0.12),
    (S.REVISION_REQUESTED, 0.06),
    (S.REJECTED, 0.22),
    (S.WITHDRAWN, 0.20),
]
PATHS = {  # the workflow each state went through (DESIGN rule 3)
    S.DRAFT: [],
    S.SUBMITTED: [S.SUBMITTED],
    S.UNDER_REVIEW: [S.SUBMITTED, S.UNDER_REVIEW],
    S.REVISION_REQUESTED: [S.SUBMITTED, S.UNDER_REVIEW, S.REVISION_REQUESTED],
    S.APPROVED: [S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED],
    S.REJECTED: [S.SUBMITTED, S.UNDER_REVIEW, S.REJECTED],
    S.WITHDRAWN: [S.SUBMITTED, S.WITHDRAWN],
}
REVIEWED = {S.UNDER_REVIEW, S.REVISION_REQUESTED, S.APPROVED, S.REJECTED}
EN_TITLES = [
    "Amplify the voice of the community through theatre",
    "Sign language for public meetings",
    "Safe spaces for LGBTIQ+ youth in the provinces",
    "Land rights dialogue with indigenous communities",
    "Women leaders against gender-based violence",
    "Elderly people's voices in commune planning",
    "Accessible health information for deaf people",
    "Radio stories by young people with disabilities",
]
KM_TITLES = [
    "លើកកម្ពស់សំឡេងសហគមន៍តាមរយៈល្ខោន",
    "ភាសាសញ្ញាសម្រាប់កិច្ចប្រជុំសាធារណៈ",
    "សិទ្ធិដីធ្លីរបស់សហគមន៍ជនជាតិដើមភាគតិច",
    "ស្ត្រីជាអ្នកដឹកនាំប្រឆាំងនឹងអំពើហិង្សា",
]
EN_LINES = [
    "Venue hire for the reflection workshop",
    "Lunch and refreshments for participants",
    "Bus tickets to the province",
    "Sign language interpreter",
    "Printing of posters and leaflets",
    "Facilitator fee",
    "Video editing of the campaign clip",
]
KM_LINES = ["ការបកប្រែភាសាសញ្ញា", "អាហារថ្ងៃត្រង់សម្រាប់អ្នកចូលរួម", "ការជួលសាល", "ការបោះពុម្ពផ្ទាំងរូបភាព"]
UNITS = ["day", "person", "trip", "set", "hour", "month"]
PARAGRAPH = (
    "People with disabilities and elderly people in the communes are not consulted when local plans "
    "are made; meetings are held in places they cannot reach and without sign language. "
)
KM_PARAGRAPH = "ជនពិការ និងមនុស្សចាស់ មិនត្រូវបានពិគ្រោះយោបល់ នៅពេលរៀបចំផែនការមូលដ្ឋាន។ "
BASE_DATE = datetime.date(2023, 3, 1)
RATES = {"USD": Decimal("0.92"), "KHR": Decimal("0.00023")}


def _aware(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


@dataclass
class Batch:
    """What one run creates, kept by programme for the next step."""

    number: int
    rng: random.Random
    scale: float
    big_lines: int
    programmes: list[CountryProgramme] = field(default_factory=list)
    orgs: dict[int, list[Organisation]] = field(default_factory=lambda: defaultdict(list))
    cops: dict[int, list[CoP]] = field(default_factory=lambda: defaultdict(list))
    members: dict[int, list[Organisation]] = field(default_factory=lambda: defaultdict(list))
    staff: dict[int, User] = field(default_factory=dict)  # organisation id -> one staff member
    committee: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    funds: dict[int, Fund] = field(default_factory=dict)
    criteria: dict[int, list[ReviewCriterion]] = field(default_factory=dict)
    facilitator: dict[int, User] = field(default_factory=dict)
    affiliations: dict[int, set[int]] = field(default_factory=dict)  # committee member -> organisations
    acronyms: dict[int, str] = field(default_factory=dict)
    showcase: set[int] = field(default_factory=set)
    applicants: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[str, int] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return max(1, round(FULL[key] * self.scale))

    def staff_of(self, organisation_id: int, programme_id: int) -> User:
        """The organisation's staff member (a demo organisation may have none: its facilitator)."""
        return self.staff.get(organisation_id) or self.facilitator[programme_id]


class Command(BaseCommand):
    help = "Add a seeded scale dataset (issue 13) on top of the demo; --scale 1 is every Voice country."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's size; 0.01 for tests")
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument(
            "--big-lines",
            type=int,
            default=300,
            help="budget lines of the largest proposal of each state in Voice Cambodia (20 activities)",
        )

    def handle(self, *args, scale, seed, big_lines, verbosity=1, **options):
        if scale <= 0:
            raise CommandError("--scale must be positive")
        if not CountryProgramme.objects.filter(code="KH").exists():
            call_command("seed_demo", verbosity=0)
        number = 1
        while CoP.objects.filter(code__startswith=f"s{number}-").exists():
            number += 1
        batch = Batch(number, random.Random(f"{seed}-{number}"), scale, big_lines)  # noqa: S311 - data, not secrets
        with transaction.atomic():
            self.people_and_programmes(batch)
            self.cops(batch)
            proposals = self.proposals(batch)
            self.contents(batch, proposals)
            self.workflow(batch, proposals)
        if connection.vendor == "postgresql":  # planner statistics after bulk inserts
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if verbosity:
            self.stdout.write(self.style.SUCCESS(self.summary(batch)))

    # ----------------------------------------------------------------------- programmes, people

    def people_and_programmes(self, b: Batch) -> None:
        kh = CountryProgramme.objects.get(code="KH")
        programmes = [kh, *CountryProgramme.objects.filter(code="LA")]
        for code, name, country, language in PROGRAMMES:
            programme, _ = CountryProgramme.objects.get_or_create(
                code=code, defaults={"name": name, "country": country, "language": language}
            )
            programmes.append(programme)
        b.programmes = programmes
        password = make_password(DEMO_PASSWORD)
        total = b.count("organisations")
        shares = self._shares(programmes, total, "organisations", minimum=4)
        orgs, users = [], []
        for programme, n in zip(programmes, shares, strict=True):
            facilitator_org = Organisation(
                acronym=f"S{b.number}{programme.code}FAC",
                name=f"Linking & Learning team, {programme.name} (batch {b.number})",
                kind=Organisation.Kind.FACILITATOR,
                country_programme=programme,
            )
            orgs.append(facilitator_org)
            for i in range(n):
                khmer = programme.code == "KH" and b.rng.random() < 0.6
                orgs.append(
                    Organisation(
                        acronym=f"S{b.number}{programme.code}{i:04d}",
                        name=f"{b.rng.choice(['Association', 'Network', 'Foundation', 'Group'])} of "
                        f"{b.rng.choice(['women', 'young people', 'deaf people', 'farmers', 'elders'])} {i}",
                        name_local=f"សមាគម{i}" if khmer else "",
                        country_programme=programme,
                    )
                )
        self._bulk(Organisation, orgs)
        for org in orgs:
            if org.kind == Organisation.Kind.FACILITATOR:
                users.append(
                    self._user(
                        f"s{b.number}-fac-{org.country_programme.code.lower()}",
                        password,
                        role=User.Role.FACILITATOR,
                        organisation=org,
                        country_programme=org.country_programme,
                        is_staff=True,
                    )
                )
                for i in range(4):
                    users.append(
                        self._user(
                            f"s{b.number}-com-{org.country_programme.code.lower()}-{i}",
                            password,
                            role=User.Role.COMMITTEE_MEMBER,
                            is_staff=True,
                            country_programme=org.country_programme,
                        )
                    )
            else:
                b.orgs[org.country_programme_id].append(org)
                users.append(
                    self._user(
                        f"s{b.number}-{org.acronym.lower()}",
                        password,
                        role=User.Role.GRANTEE_STAFF,
                        organisation=org,
                    )
                )
        self._bulk(User, users)
        for user in users:
            if user.role == User.Role.FACILITATOR:
                b.facilitator[user.country_programme_id] = user
            elif user.role == User.Role.COMMITTEE_MEMBER:
                b.committee[user.country_programme_id].append(user)
            else:
                b.staff[user.organisation_id] = user
        # Demo people also meet the scale data: the demo committee sits on Cambodia's committee.
        b.committee[kh.pk] += list(User.objects.filter(username__in=["sophal.committee", "ratana.committee"]))
        for members in b.committee.values():
            for member in members:
                b.affiliations[member.pk] = member.affiliated_organisation_ids()
        b.acronyms = dict(Organisation.objects.values_list("pk", "acronym"))
        for programme in programmes:
            b.funds[programme.pk] = Fund(
                name=f"{programme.name} CoP fund, batch {b.number}",
                country_programme=programme,
                ceiling=Decimal("100000000.00"),
                opens_on=BASE_DATE,
                closes_on=datetime.date(2030, 12, 31),
            )
        self._bulk(Fund, list(b.funds.values()))
        criteria = [
            ReviewCriterion(fund=fund, name=name, max_score=5, order=i)
            for fund in b.funds.values()
            for i, name in enumerate(["Relevance", "Joint ownership", "Feasibility", "Value for money"])
        ]
        ReviewCriterion.objects.bulk_create(criteria)
        for c in criteria:
            b.criteria.setdefault(c.fund.country_programme_id, []).append(c)

    @staticmethod
    def _user(username: str, password: str, **fields) -> User:
        return User(
            username=username,
            password=password,
            email=f"{username}@example.org",
            first_name="Scale",
            last_name=username,
            **fields,
        )

    @staticmethod
    def _shares(programmes, total: int, key: str, minimum: int = 0) -> list[int]:
        """Voice Cambodia's share of `total`, Laos and the other programmes sharing the rest
        (at least `minimum` each, so a small scale still has a CoP with members everywhere)."""
        kh = round(total * KH_SHARE[key]) if len(programmes) > 1 else total
        rest = total - kh
        others = len(programmes) - 1
        shares = [kh] + [rest // others + (1 if i < rest % others else 0) for i in range(others)]
        return [max(minimum, n) for n in shares]

    # ----------------------------------------------------------------------- CoPs and members

    def cops(self, b: Batch) -> None:
        groups = list(RightsholderGroup.objects.all())
        cops = []
        for programme, n in zip(
            b.programmes, self._shares(b.programmes, b.count("cops"), "cops", minimum=1), strict=True
        ):
            for i in range(n):
                cops.append(
                    CoP(
                        code=f"s{b.number}-{programme.code.lower()}-{i}",
                        name=f"CoP {b.rng.choice(['Disability', 'Women', 'Youth', 'LGBTIQ+', 'Land', 'Elders'])} "
                        f"{programme.code} {b.number}.{i}",
                        country_programme=programme,
                        domain=b.rng.choice(EN_TITLES),
                        status=b.rng.choices(
                            [CoP.Status.ACTIVE, CoP.Status.FORMING, CoP.Status.DISBANDED], [8, 1, 1]
                        )[0],
                    )
                )
        self._bulk(CoP, cops)
        CoP.rightsholder_groups.through.objects.bulk_create(
            CoP.rightsholder_groups.through(cop_id=cop.pk, rightsholdergroup_id=g.pk)
            for cop in cops
            for g in b.rng.sample(groups, b.rng.randint(1, 3))
        )
        memberships = []
        for cop in cops:
            b.cops[cop.country_programme_id].append(cop)
            pool = b.orgs[cop.country_programme_id]
            for org in b.rng.sample(pool, min(len(pool), b.rng.randint(3, 10))):
                memberships.append(Membership(cop=cop, organisation=org, joined_on=BASE_DATE))
        # The demo's busiest organisation (WPM) and the other demo grantees join some scale CoPs.
        kh = b.programmes[0]
        demo = {
            o.acronym: o
            for o in Organisation.objects.filter(country_programme=kh, kind="grantee").exclude(
                acronym__regex=r"^S\d"
            )
        }
        for acronym, org in sorted(demo.items()):
            count = max(1, round(len(b.cops[kh.pk]) * (0.05 if acronym == "WPM" else 0.01)))
            for cop in b.rng.sample(b.cops[kh.pk], min(count, len(b.cops[kh.pk]))):
                memberships.append(Membership(cop=cop, organisation=org, joined_on=BASE_DATE))
        self._bulk(Membership, memberships)
        for m in memberships:
            b.members[m.cop_id].append(m.organisation)
        demo_staff = {
            u.organisation_id: u
            for u in User.objects.filter(organisation__in=demo.values(), role=User.Role.GRANTEE_STAFF)
        }
        for org_id, user in demo_staff.items():
            b.staff.setdefault(org_id, user)

    # ----------------------------------------------------------------------- proposals

    def proposals(self, b: Batch) -> list[Proposal]:
        total = b.count("proposals")
        grants = b.count("grants")
        states = [S.APPROVED] * grants
        rest = total - grants
        weights = [w for _, w in STATES]
        states += b.rng.choices([s for s, _ in STATES], weights, k=max(0, rest))
        b.rng.shuffle(states)
        shares = self._shares(b.programmes, total, "proposals")
        programme_of = [p for p, n in zip(b.programmes, shares, strict=True) for _ in range(n)]
        b.rng.shuffle(programme_of)
        proposals = []
        showcase = {}  # the first proposal of each state in Cambodia gets `big_lines` lines
        for state, programme in zip(states, programme_of, strict=True):
            cop = b.rng.choice(b.cops[programme.pk])
            created = BASE_DATE + datetime.timedelta(days=b.rng.randint(0, 1000))
            khmer = programme.code == "KH" and b.rng.random() < 0.3
            proposal = Proposal(
                cop=cop,
                fund=b.funds[programme.pk],
                title=f"{b.rng.choice(KM_TITLES if khmer else EN_TITLES)} ({b.number}.{len(proposals)})",
                problem_analysis=(KM_PARAGRAPH if khmer else PARAGRAPH) * b.rng.randint(1, 6),
                objectives="Raise awareness; co-create a campaign; reflect together.",
                provinces=b.rng.choice(["Battambang", "Siem Reap, Kampot", "Phnom Penh", "Kratie"]),
                starts_on=created + datetime.timedelta(days=60),
                ends_on=created + datetime.timedelta(days=240),
                budget_option=b.rng.choice([1, 2]),
                status=state,
                created_by=b.staff_of(b.members[cop.pk][0].pk, programme.pk),
                created_at=_aware(created),
                submitted_at=_aware(created + datetime.timedelta(days=20)) if PATHS[state] else None,
            )
            if programme.code == "KH" and state not in showcase:
                showcase[state] = proposal
            proposals.append(proposal)
        self._bulk(Proposal, proposals)
        Proposal.objects.filter(pk__in=[p.pk for p in proposals]).update(
            updated_at=Coalesce(F("submitted_at"), F("created_at")) + datetime.timedelta(days=3)
        )
        b.showcase = {p.pk for p in showcase.values()}
        groups = list(RightsholderGroup.objects.all())
        Proposal.target_groups.through.objects.bulk_create(
            Proposal.target_groups.through(proposal_id=p.pk, rightsholdergroup_id=g.pk)
            for p in proposals
            for g in b.rng.sample(groups, b.rng.randint(1, 3))
        )
        applicants = []
        for p in proposals:
            members = b.members[p.cop_id]
            for i, org in enumerate(b.rng.sample(members, min(len(members), b.rng.randint(2, 4)))):
                applicants.append(
                    Applicant(proposal=p, organisation=org, is_lead=i == 0, added_at=p.created_at)
                )
        self._bulk(Applicant, applicants, when=lambda a: a.added_at, who=lambda a: a.proposal.created_by)
        for a in applicants:
            b.applicants[a.proposal_id].append(a.organisation_id)
        return proposals

    def contents(self, b: Batch, proposals: list[Proposal]) -> None:
        groups = list(RightsholderGroup.objects.all())
        activities, lines, rates = [], [], []
        for p in proposals:
            big = p.pk in b.showcase
            n_act = 20 if big else min(20, max(1, int(b.rng.lognormvariate(1.0, 0.6))))
            n_lines = b.big_lines if big else min(b.big_lines, max(1, int(b.rng.lognormvariate(2.79, 0.8))))
            start = p.starts_on
            mine = []
            for i in range(n_act):
                day = start + datetime.timedelta(days=7 * i)
                khmer = b.rng.random() < 0.3
                mine.append(
                    PlannedActivity(
                        proposal=p,
                        title=(
                            KM_LINES[i % 4]
                            if khmer
                            else b.rng.choice(
                                ["Reflection workshop", "Theatre day", "Radio talk", "Training"]
                            )
                        )
                        + f" {i + 1}",
                        description="Co-created with the members; reflection at the end.",
                        starts_on=day,
                        ends_on=day + datetime.timedelta(days=1),
                        place=p.provinces.split(",")[0],
                        is_primary=i == 0 or b.rng.random() < 0.5,
                        agenda="08:30 Registration\n09:00 Opening\n10:00 Practice\n12:00 Lunch\n13:30 Reflection",
                        order=i,
                    )
                )
            activities += mine
            currencies = set()
            for i in range(n_lines):
                currency = b.rng.choices(["EUR", "USD", "KHR"], [4, 4, 2])[0]
                currencies.add(currency)
                khmer = b.rng.random() < 0.25
                lines.append(
                    BudgetLine(
                        proposal=p,
                        activity=mine[i % n_act] if b.rng.random() < 0.85 else None,
                        category=b.rng.choice(BudgetLine.Category.values),
                        description=f"{b.rng.choice(KM_LINES if khmer else EN_LINES)} {i + 1}",
                        unit=b.rng.choice(UNITS),
                        quantity=Decimal(b.rng.randint(1, 30)),
                        unit_cost=Decimal(b.rng.randint(4000, 400000))
                        if currency == "KHR"
                        else Decimal(b.rng.randint(100, 50000)) / 100,
                        currency=currency,
                        order=i,
                    )
                )
            for currency in sorted(currencies - {"EUR"}):
                rates.append(ExchangeRate(proposal=p, currency=currency, rate=RATES[currency]))
        self._bulk(PlannedActivity, activities)
        self._bulk(
            ExpectedParticipation,
            [
                ExpectedParticipation(activity=a, rightsholder_group=g, number=b.rng.randint(3, 40))
                for a in activities
                for g in b.rng.sample(groups, b.rng.randint(1, 3))
            ],
        )
        self._bulk(BudgetLine, lines)
        self._bulk(ExchangeRate, rates)

    # ----------------------------------------------------------------------- workflow

    def workflow(self, b: Batch, proposals: list[Proposal]) -> None:
        endorsements, transitions, versions, reviews, decisions, grants = [], [], [], [], [], []
        reviews_left = b.count("reviews")
        reviewed = [p for p in proposals if p.status in REVIEWED]
        per_review = reviews_left / max(1, len(reviewed))
        for chunk in range(0, len(proposals), 200):
            part = proposals[chunk : chunk + 200]
            snapshots = services.proposal_snapshots(part)
            digests = services.proposal_content_digests(part)
            for p in part:
                endorsements += self._endorsements(b, p, digests[p.pk])
                day = p.created_at
                previous = S.DRAFT
                for step, state in enumerate(PATHS[p.status]):
                    at = (p.submitted_at or day) + datetime.timedelta(days=7 * step)
                    lead = b.staff_of(b.applicants[p.pk][0], p.cop.country_programme_id)
                    actor = (
                        lead
                        if state in (S.SUBMITTED, S.WITHDRAWN)
                        else b.rng.choice(b.committee[p.cop.country_programme_id])
                    )
                    reason = (
                        "Please detail the budget of the second activity."
                        if state == S.REVISION_REQUESTED
                        else ""
                    )
                    transitions.append(
                        Transition(
                            proposal=p,
                            from_status=previous,
                            to_status=state,
                            actor=actor,
                            at=at,
                            reason=reason,
                        )
                    )
                    previous = state
                if PATHS[p.status]:
                    snapshot = snapshots[p.pk]
                    versions.append(
                        ProposalVersion(
                            proposal=p,
                            number=1,
                            snapshot=snapshot,
                            content_sha256=services.digest(snapshot),
                            submitted_by=lead,
                            submitted_at=p.submitted_at,
                        )
                    )
                if p.status in REVIEWED:
                    committee = b.committee[p.cop.country_programme_id]
                    n = int(per_review) + (1 if b.rng.random() < per_review % 1 else 0)
                    for reviewer in b.rng.sample(committee, min(n, len(committee))):
                        if b.affiliations[reviewer.pk] & set(b.applicants[p.pk]):
                            continue  # rule 5: no review by a member affiliated with an applicant
                        reviews.append(
                            Review(
                                proposal=p,
                                reviewer=reviewer,
                                score=b.rng.randint(3, 10),
                                recommendation=b.rng.choice(Review.Recommendation.values),
                                comment="Clear plan; budget plausible.",
                                created_at=p.submitted_at + datetime.timedelta(days=10),
                            )
                        )
                if p.status in (S.APPROVED, S.REJECTED):
                    decisions.append(self._decision(b, p, snapshots[p.pk], endorsements))
                    if p.status == S.APPROVED:
                        d = decisions[-1]
                        grants.append(
                            Grant(
                                fund=p.fund,
                                proposal=p,
                                amount=d.amount,
                                currency=d.currency,
                                approved_by=d.decided_by,
                                approved_at=d.decided_at,
                            )
                        )
        self._bulk(Endorsement, endorsements, when=lambda e: e.endorsed_at, who=lambda e: e.endorsed_by)
        Transition.objects.bulk_create(transitions, batch_size=2000)
        ProposalVersion.objects.bulk_create(versions, batch_size=500)
        self._bulk(Review, reviews, when=lambda r: r.created_at, who=lambda r: r.reviewer)
        scores = [
            ReviewScore(review=r, criterion=c, score=b.rng.randint(1, c.max_score))
            for r in reviews
            for c in b.criteria[r.proposal.cop.country_programme_id]
        ]
        self._bulk(ReviewScore, scores, when=lambda s: s.review.created_at, who=lambda s: s.review.reviewer)
        conflicts = [
            ConflictDeclaration(
                proposal=p,
                member=b.rng.choice(b.committee[p.cop.country_programme_id]),
                reason="Former board member of an applicant.",
            )
            for p in b.rng.sample(reviewed, len(reviewed) // 50)
        ]
        self._bulk(ConflictDeclaration, list({(c.proposal_id, c.member_id): c for c in conflicts}.values()))
        self._bulk(Decision, decisions, when=lambda d: d.decided_at, who=lambda d: d.decided_by)
        self._bulk(Grant, grants, when=lambda g: g.approved_at, who=lambda g: g.approved_by)
        history = Proposal.history.model
        history.objects.bulk_create(
            [
                history(
                    **{f.attname: getattr(p, f.attname) for f in history.tracked_fields},
                    history_date=p.submitted_at + datetime.timedelta(days=30),
                    history_type="~",
                    history_change_reason=p.status.replace("_", " "),
                    history_user=p.created_by,
                )
                for p in proposals
                if p.submitted_at
            ],
            batch_size=1000,
        )
        b.totals = {
            "endorsements": len(endorsements),
            "reviews": len(reviews),
            "grants": len(grants),
            "decisions": len(decisions),
            "versions": len(versions),
        }

    def _endorsements(self, b: Batch, p: Proposal, digest: str) -> list[Endorsement]:
        """Every applicant endorsed a submitted proposal's content (rule 1); a draft has some
        endorsements, valid or made void by a later change."""
        rows = []
        for org_id in b.applicants[p.pk]:
            if p.status in (S.DRAFT, S.REVISION_REQUESTED):
                roll = b.rng.random()
                if roll < 0.4:
                    continue
                content = digest if roll < 0.8 else "0" * 64
            else:
                content = digest
            rows.append(
                Endorsement(
                    proposal=p,
                    organisation_id=org_id,
                    endorsed_by=b.staff_of(org_id, p.cop.country_programme_id),
                    endorsed_at=p.created_at + datetime.timedelta(days=10),
                    content_digest=content,
                )
            )
        return rows

    def _decision(self, b: Batch, p: Proposal, snapshot: dict, endorsements) -> Decision:
        decided_at = p.submitted_at + datetime.timedelta(days=14)
        member = b.rng.choice(b.committee[p.cop.country_programme_id])
        if p.status == S.REJECTED:
            return Decision(
                proposal=p,
                outcome=Decision.Outcome.REJECTED,
                currency=p.fund.currency,
                reasons="Not enough joint ownership.",
                decided_by=member,
                decided_at=decided_at,
            )
        total = budget_summary(p).total_in_fund_currency or money.ZERO
        version = dict(snapshot)
        version["endorsements"] = [
            {
                "organisation": b.acronyms[e.organisation_id],
                "by": e.endorsed_by.username,
                "at": e.endorsed_at.isoformat(),
            }
            for e in endorsements
            if e.proposal is p
        ]
        version["total_in_fund_currency"] = str(total)
        return Decision(
            proposal=p,
            outcome=Decision.Outcome.APPROVED,
            amount=max(total, Decimal("1.00")),
            currency=p.fund.currency,
            reasons="Relevant and feasible.",
            decided_by=member,
            decided_at=decided_at,
            approved_version=version,
            approved_version_sha256=services.digest(version),
        )

    # ----------------------------------------------------------------------- helpers

    @staticmethod
    def _bulk(model, objs: list, when=None, who=None) -> None:
        """Insert, then one history row per object, dated and signed like the object (`when`,
        `who`: functions of the object; by default its proposal's creation)."""
        model.objects.bulk_create(objs, batch_size=1000)
        if not hasattr(model, "history"):
            return
        proposal_of = {
            PlannedActivity: lambda o: o.proposal,
            BudgetLine: lambda o: o.proposal,
            ExchangeRate: lambda o: o.proposal,
            ExpectedParticipation: lambda o: o.activity.proposal,
            Proposal: lambda o: o,
        }.get(model)
        for obj in objs:
            if when is None and proposal_of is not None:
                obj._history_date = proposal_of(obj).created_at
                obj._history_user = proposal_of(obj).created_by
            else:
                obj._history_date = when(obj) if when else _aware(BASE_DATE)
                if who:
                    obj._history_user = who(obj)
        model.history.bulk_history_create(objs, batch_size=1000)

    def summary(self, b: Batch) -> str:
        counts = {
            "country programmes": CountryProgramme.objects.count(),
            "organisations": Organisation.objects.count(),
            "CoPs": CoP.objects.count(),
            "proposals": Proposal.objects.count(),
            "in Voice Cambodia": Proposal.objects.filter(cop__country_programme__code="KH").count(),
            "budget lines": BudgetLine.objects.count(),
            "reviews": Review.objects.count(),
            "grants": Grant.objects.count(),
        }
        return f"Scale batch {b.number} (scale {b.scale}): now " + ", ".join(
            f"{v:,} {k}" for k, v in counts.items()
        )
