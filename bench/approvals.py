"""Concurrent approvals on one fund (DESIGN rule 2): committee members in separate processes (as
on separate app servers) approve proposals of one fund at the same moment; the ceiling admits
only some of them. Approvals per second, and whether the ceiling held.

    .venv/bin/python bench/approvals.py [--processes 4] [--proposals 24] [--json]

Each approval is the real `proposal_approve`: the fund row locked, the frozen version, the
official PDF rendered and stored, the grant. Runs on DATABASE_URL (PostgreSQL: row locks)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

AMOUNT = Decimal("1000.00")


def setup(proposals: int, processes: int) -> tuple[int, list[int], list[int], Decimal]:
    from ccop.models import CoP, Organisation, User
    from grants.models import Fund
    from tests import factories

    for factory, model in (
        (factories.CoPFactory, CoP),
        (factories.OrganisationFactory, Organisation),
        (factories.UserFactory, User),
        (factories.FundFactory, Fund),
    ):
        factory.reset_sequence((model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1)
    programme = factories.CountryProgrammeFactory()
    ceiling = AMOUNT * (proposals * 2 // 3)  # two in three fit
    fund = factories.FundFactory(country_programme=programme, ceiling=ceiling)
    cop = factories.CoPFactory(country_programme=programme)
    ids = [factories.under_review(fund=fund, cop=cop, amount=AMOUNT)[0].pk for _ in range(proposals)]
    members = [factories.CommitteeMemberFactory(country_programme=programme).pk for _ in range(processes)]
    return fund.pk, ids, members, ceiling


def approve(ids: list[int], member_id: int, start: float) -> dict:
    from ccop.errors import RuleViolation
    from ccop.models import User
    from proposals import services
    from proposals.models import Proposal

    member = User.objects.get(pk=member_id)
    while time.time() < start:
        time.sleep(0.005)
    approved = refused = 0
    began = time.time()
    for pk in ids:
        try:
            services.proposal_approve(
                proposal=Proposal.objects.get(pk=pk), acting_user=member, reasons="Approved (bench)."
            )
            approved += 1
        except RuleViolation:
            refused += 1
    return {"approved": approved, "refused": refused, "began": began, "ended": time.time()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--proposals", type=int, default=24)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    common.setup_django()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(approve(spec["ids"], spec["member"], spec["start"])))
        return
    from django.db import connection

    from grants.models import Fund

    fund_id, ids, members, ceiling = setup(args.proposals, args.processes)
    connection.close()
    start = time.time() + 3  # every process started and connected by then
    children = [
        subprocess.Popen(  # noqa: S603 - this script
            [
                sys.executable,
                __file__,
                "--child",
                json.dumps({"ids": ids[i :: args.processes], "member": m, "start": start}),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, m in enumerate(members)
    ]
    results = [json.loads(child.communicate()[0].strip().splitlines()[-1]) for child in children]
    fund = Fund.objects.get(pk=fund_id)
    approved = sum(r["approved"] for r in results)
    seconds = max(r["ended"] for r in results) - min(r["began"] for r in results)
    figures = {
        "processes": args.processes,
        "proposals": args.proposals,
        "ceiling": str(ceiling),
        "approved": approved,
        "refused": sum(r["refused"] for r in results),
        "approved_total": str(fund.approved_total()),
        "ceiling_held": fund.approved_total() <= ceiling and approved == int(ceiling / AMOUNT),
        "seconds": seconds,
        "per_second": approved / seconds if seconds else 0.0,
    }
    print(
        f"{figures['approved']} approved, {figures['refused']} refused over the ceiling in {seconds:.1f} s "
        f"({figures['per_second']:.2f} approvals/s); approved total {figures['approved_total']} "
        f"of {figures['ceiling']}: ceiling {'held' if figures['ceiling_held'] else 'BROKEN'}"
    )
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
