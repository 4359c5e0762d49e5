"""Time the approved proposal's PDF with 20 activities and 300 budget lines (Khmer included):
`render_proposal_pdf` (context + template + WeasyPrint) next to WeasyPrint alone on the same
HTML string. Median of 3 runs each, after one warm-up.

    .venv/bin/python bench/pdf_render.py [--runs 3] [--keep /tmp/bench.pdf]

Standalone: a throwaway SQLite database in a temporary folder, migrated, filled and deleted."""

from __future__ import annotations

import argparse
import datetime
import io
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTIVITIES = 20
LINES = 300
KHMER = "សិក្ខាសាលាស្តីពីភាសាសញ្ញា"
KHMER_LINE = "ការបកប្រែភាសាសញ្ញា"


def timed(function, runs: int) -> tuple[float, float, object]:
    """Median wall-clock and median CPU seconds of `runs` calls, after one warm-up (fonts,
    templates, imports). CPU time is the steadier figure on a shared machine."""
    function()
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def build(tmp: Path):
    """The programme, CoP, members, fund and a proposal with 20 activities and 300 lines."""
    from django.utils import timezone

    from ccop.models import CoP, CountryProgramme, Membership, Organisation, RightsholderGroup, User
    from grants.models import Fund
    from proposals.models import (
        BudgetLine,
        Endorsement,
        ExchangeRate,
        ExpectedParticipation,
        PlannedActivity,
        Proposal,
    )

    programme = CountryProgramme.objects.create(
        code="KH", name="Voice Cambodia", country="Cambodia", language="km"
    )
    facilitator = Organisation.objects.create(
        acronym="LLC",
        name="Live & Learn Cambodia",
        kind=Organisation.Kind.FACILITATOR,
        country_programme=programme,
    )
    programme.facilitators.add(facilitator)
    cop = CoP.objects.create(
        code="cop-disability",
        name="CoP Disability",
        country_programme=programme,
        domain="Sign language access",
    )
    orgs = [
        Organisation.objects.create(
            acronym=f"ORG{i}",
            name=f"Grantee partner {i}",
            name_local="អង្គការជនពិការ" if i % 2 else "",
            country_programme=programme,
        )
        for i in range(6)
    ]
    for org in orgs:
        Membership.objects.create(cop=cop, organisation=org, joined_on=datetime.date(2023, 1, 1))
    author = User.objects.create(
        username="author", first_name="Sokha", last_name="Chan", organisation=orgs[0]
    )
    chair = User.objects.create(username="chair", first_name="Committee", last_name="Chair")
    fund = Fund.objects.create(
        name="CCoP fund",
        country_programme=programme,
        ceiling=Decimal("10000000"),
        opens_on=datetime.date(2024, 1, 1),
        closes_on=datetime.date(2030, 1, 1),
    )
    proposal = Proposal.objects.create(
        cop=cop,
        fund=fund,
        title=f"Sign language for all: {KHMER}",
        problem_analysis="Deaf people cannot follow public meetings.\n" * 8,
        objectives="Train interpreters; run workshops; amplify the voice of the community.\n" * 4,
        provinces="Phnom Penh, Battambang, Siem Reap",
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2025, 12, 31),
        budget_option=Proposal.BudgetOption.FACILITATOR,
        created_by=author,
    )
    proposal.target_groups.set(RightsholderGroup.objects.all())
    for org in orgs[:3]:
        proposal.applicants.create(organisation=org, is_lead=org == orgs[0])
    ExchangeRate.objects.create(proposal=proposal, currency="USD", rate=Decimal("0.92"))
    ExchangeRate.objects.create(proposal=proposal, currency="KHR", rate=Decimal("0.000225"))
    groups = list(RightsholderGroup.objects.all())
    activities = PlannedActivity.objects.bulk_create(
        PlannedActivity(
            proposal=proposal,
            title=f"{KHMER} {i + 1}" if i % 3 == 0 else f"Community theatre day {i + 1}",
            description="Co-created with the members; reflection at the end.",
            starts_on=datetime.date(2025, 1, 1) + datetime.timedelta(days=14 * i),
            ends_on=datetime.date(2025, 1, 2) + datetime.timedelta(days=14 * i),
            place="Phnom Penh",
            agenda="08:30 Registration\n09:00 Opening\n10:00 Practice\n12:00 Lunch\n13:30 Reflection",
            order=i,
        )
        for i in range(ACTIVITIES)
    )
    ExpectedParticipation.objects.bulk_create(
        ExpectedParticipation(activity=a, rightsholder_group=g, number=5 + j)
        for a in activities
        for j, g in enumerate(groups[:3])
    )
    categories = [c for c, _ in BudgetLine.Category.choices]
    currencies = ["EUR", "USD", "KHR"]
    BudgetLine.objects.bulk_create(
        BudgetLine(
            proposal=proposal,
            activity=activities[i % ACTIVITIES] if i % 10 else None,
            category=categories[i % len(categories)],
            description=f"{KHMER_LINE} {i + 1}"
            if i % 5 == 0
            else f"Budget line {i + 1}: transport and meals",
            unit="day",
            quantity=Decimal(1 + i % 7),
            unit_cost=Decimal("40000") if currencies[i % 3] == "KHR" else Decimal("12.50") + i,
            currency=currencies[i % 3],
            order=i,
        )
        for i in range(LINES)
    )
    for org, person in zip(
        orgs[:3], [author, *[User.objects.create(username=f"s{i}") for i in range(2)]], strict=True
    ):
        Endorsement.objects.create(
            proposal=proposal,
            organisation=org,
            endorsed_by=person,
            endorsed_at=timezone.now(),
            content_digest="x",
        )
    return proposal, chair


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="write the official PDF there (and its HTML and the draft next to it)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON (bench/run.py)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ccop-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "ccop.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # no per-step progress lines
    from django.core.management import call_command
    from django.db import connection
    from pypdf import PdfReader
    from weasyprint import HTML

    from proposals import pdf
    from proposals.models import Decision
    from proposals.selectors import budget_summary
    from proposals.services import digest, proposal_snapshot

    call_command("migrate", verbosity=0)
    proposal, chair = build(tmp)
    total = budget_summary(proposal).total_in_fund_currency
    snapshot = proposal_snapshot(proposal)
    snapshot["endorsements"] = [
        {
            "organisation": e.organisation.acronym,
            "by": e.endorsed_by.username,
            "at": e.endorsed_at.isoformat(),
        }
        for e in proposal.endorsements.select_related("organisation", "endorsed_by")
    ]
    snapshot["total_in_fund_currency"] = str(total)
    decision = Decision(
        proposal=proposal,
        outcome=Decision.Outcome.APPROVED,
        amount=total,
        currency="EUR",
        reasons="Joint ownership; value for money.",
        decided_by=chair,
        approved_version=snapshot,
        approved_version_sha256=digest(snapshot),
    )
    kwargs = {
        "proposal": proposal,
        "snapshot": snapshot,
        "draft": False,
        "decision": decision,
        "content_sha256": decision.approved_version_sha256,
    }

    full, full_cpu, content = timed(lambda: pdf.render_proposal_pdf(**kwargs), args.runs)
    html_time, html_cpu, html = timed(lambda: pdf.render_proposal_html(**kwargs), args.runs)
    alone, alone_cpu, _alone_content = timed(
        lambda: HTML(
            string=html, base_url=pdf.STATIC_DIR.as_uri() + "/", url_fetcher=pdf.StaticFileFetcher()
        ).write_pdf(),
        args.runs,
    )
    draft_time, draft_cpu, draft = timed(
        lambda: pdf.render_proposal_pdf(proposal=proposal, snapshot=proposal_snapshot(proposal), draft=True),
        args.runs,
    )
    pages = len(PdfReader(io.BytesIO(content)).pages)
    if args.keep:
        Path(args.keep).write_bytes(content)
        Path(args.keep).with_suffix(".html").write_text(html)
        Path(args.keep).with_suffix(".draft.pdf").write_bytes(draft)
    connection.close()
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"proposal: {len(snapshot['activities'])} activities, {len(snapshot['budget_lines'])} budget lines")
    print(f"official PDF: {pages} pages, {len(content) / 1024:.0f} KiB, HTML {len(html) / 1024:.0f} KiB")
    print(f"median of {args.runs} (wall / CPU seconds):")
    print(f"  render_proposal_pdf, official:   {full:6.2f} / {full_cpu:6.2f}")
    print(f"    of which context + template:   {html_time:6.2f} / {html_cpu:6.2f}")
    print(f"  WeasyPrint alone, same HTML:     {alone:6.2f} / {alone_cpu:6.2f}")
    draft_pages = len(PdfReader(io.BytesIO(draft)).pages)
    print(f"  draft preview ({draft_pages} pages):        {draft_time:6.2f} / {draft_cpu:6.2f}")
    print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        figures = {
            "pages": pages,
            "pdf_kib": len(content) / 1024,
            "full": full,
            "full_cpu": full_cpu,
            "template": html_time,
            "alone": alone,
            "alone_cpu": alone_cpu,
            "draft": draft_time,
        }
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
