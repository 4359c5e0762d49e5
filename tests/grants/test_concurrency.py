"""DESIGN rule 2 under load: committee members approving at the same moment, each on a database
connection of their own (threads here, separate processes in the last test, as two app servers
would), never take a fund over its ceiling, and one proposal is never approved twice.

PostgreSQL only (the `require_postgres` fixture skips on SQLite, which serialises writers and so
proves nothing). The data is committed for real (`transaction=True`), so other connections see it;
`serialized_rollback` brings back the migrations' rows (rightsholder groups) afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from ccop.errors import RuleViolation
from grants.models import Grant
from proposals import services
from proposals.models import Decision, Proposal, Transition
from tests.factories import (
    CommitteeMemberFactory,
    CoPFactory,
    CountryProgrammeFactory,
    FundFactory,
    under_review,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("require_postgres"),
]

CEILING = Decimal("50000.00")
AMOUNT = Decimal("9000.00")
RACERS = 8
WINNERS = 5  # 5 x 9,000 = 45,000 fits under 50,000; a sixth would need 54,000
REMAINING = "EUR 5,000.00"
REASONS = "Approved by the committee."
PROCESSES = 4
PROCESS_AMOUNT = Decimal("20000.00")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def quick_pdf(monkeypatch):
    """A stand-in for the approved PDF (rendering takes seconds of CPU per approval and is not
    what these tests race): the approvals then meet at the database all at once."""
    from proposals import pdf

    def render(**_kwargs) -> bytes:
        return b"%PDF-1.4\n% stand-in for the tests\n%%EOF\n"

    monkeypatch.setattr(pdf, "render_proposal_pdf", render)


def proposals_under_review(n: int, members: int | None = None, amount: Decimal = AMOUNT):
    """`n` proposals of `amount` under review against one EUR 50,000 fund (each fits alone,
    together they overshoot) and committee members of the programme (`n` unless told)."""
    programme = CountryProgrammeFactory()
    cop = CoPFactory(country_programme=programme)
    fund = FundFactory(country_programme=programme, ceiling=CEILING)
    proposals = [under_review(fund=fund, cop=cop, amount=amount)[0] for _ in range(n)]
    people = [CommitteeMemberFactory(country_programme=programme) for _ in range(members or n)]
    return fund, proposals, people


@dataclass
class Outcome:
    proposal_id: int
    decision_id: int | None = None
    error: BaseException | None = None
    seconds: float = 0.0


def approve_at_once(jobs) -> tuple[list[Outcome], float]:
    """Each (proposal, member) in its own thread with its own connection; all start together at
    a barrier. Returns each outcome and the wall time from the barrier to the last finish."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    outcomes = [Outcome(proposal.pk) for proposal, _member in jobs]
    released = []

    def work(index: int, proposal_id: int, member) -> None:
        try:
            proposal = Proposal.objects.get(pk=proposal_id)  # opens this thread's connection
            if barrier.wait() == 0:
                released.append(time.perf_counter())
            started = time.perf_counter()
            try:
                decision = services.proposal_approve(proposal=proposal, acting_user=member, reasons=REASONS)
                outcomes[index].decision_id = decision.pk
            finally:
                outcomes[index].seconds = time.perf_counter() - started
        except BaseException as exc:  # noqa: BLE001 - reported by the test, never lost in a thread
            outcomes[index].error = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(i, proposal.pk, member), name=f"approve-{proposal.pk}")
        for i, (proposal, member) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "an approval hung (lock never released?)"
    errors_before_start = [o.error for o in outcomes if not released and o.error]
    assert released, f"the racers never started together: {errors_before_start}"
    return outcomes, time.perf_counter() - released[0]


def _assert_ceiling_held(
    fund,
    winners: set[int],
    losers: list[tuple[int, str, str]],
    *,
    amount: Decimal = AMOUNT,
    expected_winners: int = WINNERS,
    racers: int = RACERS,
    remaining: str = REMAINING,
) -> None:
    assert len(winners) == expected_winners
    assert Grant.objects.filter(fund=fund).count() == expected_winners
    total = sum(Grant.objects.filter(fund=fund).values_list("amount", flat=True))
    assert total == amount * expected_winners
    assert total <= CEILING
    assert fund.approved_total() <= fund.ceiling
    assert len(losers) == racers - expected_winners
    for proposal_id, code, message in losers:
        assert code == "over_ceiling", message
        assert f"only {remaining} remains" in message
        proposal = Proposal.objects.get(pk=proposal_id)
        assert proposal.status == Proposal.Status.UNDER_REVIEW
        assert not Decision.objects.filter(proposal=proposal).exists()
        assert not Grant.objects.filter(proposal=proposal).exists()
        assert not Transition.objects.filter(proposal=proposal, to_status=Proposal.Status.APPROVED).exists()
    for proposal_id in winners:
        proposal = Proposal.objects.get(pk=proposal_id)
        assert proposal.status == Proposal.Status.APPROVED
        assert proposal.decision.amount == proposal.grant.amount == amount


def test_simultaneous_approvals_in_threads_stop_at_the_ceiling(quick_pdf):
    fund, proposals, members = proposals_under_review(RACERS)

    outcomes, wall = approve_at_once(list(zip(proposals, members, strict=True)))

    unexpected = [o.error for o in outcomes if o.error and not isinstance(o.error, RuleViolation)]
    assert not unexpected, unexpected  # e.g. a deadlock or a serialization failure
    winners = {o.proposal_id for o in outcomes if o.error is None}
    losers = [(o.proposal_id, o.error.code, " ".join(o.error.messages)) for o in outcomes if o.error]
    _assert_ceiling_held(fund, winners, losers)
    print(  # noqa: T201 - shown with -s: how long the racers queued on the fund's row lock
        f"\n{RACERS} threads: {wall:.3f}s wall, slowest approval {max(o.seconds for o in outcomes):.3f}s"
    )


def test_the_same_proposal_approved_twice_at_once_makes_one_grant(quick_pdf):
    fund, proposals, members = proposals_under_review(1, members=2)
    proposal = proposals[0]

    outcomes, _wall = approve_at_once([(proposal, members[0]), (proposal, members[1])])

    errors = [o.error for o in outcomes if o.error]
    assert len(errors) == 1, errors
    assert isinstance(errors[0], RuleViolation)
    assert errors[0].code == "invalid_transition"
    assert "A proposal that is approved cannot become approved." in errors[0].messages
    assert Grant.objects.filter(proposal=proposal).count() == 1
    assert Decision.objects.filter(proposal=proposal).count() == 1
    assert Transition.objects.filter(proposal=proposal, to_status=Proposal.Status.APPROVED).count() == 1
    assert fund.approved_total() == AMOUNT


def test_an_approval_rendering_its_pdf_does_not_hold_up_another_on_the_same_fund(monkeypatch):
    """The fund's row is locked only around the ceiling check and the grant's write: while one
    approval renders its PDF (slow, seconds on a cold process), another proposal of the same
    fund can be approved."""
    from proposals import pdf

    fund, (slow, quick), (member, other_member) = proposals_under_review(2)
    rendering, finish = threading.Event(), threading.Event()
    real_render = pdf.render_proposal_pdf

    def render(*, proposal, **kwargs):
        if proposal.pk == slow.pk:
            rendering.set()
            finish.wait(timeout=30)
        return real_render(proposal=proposal, **kwargs)

    monkeypatch.setattr(pdf, "render_proposal_pdf", render)
    results: dict[int, object] = {}

    def approve(proposal, user) -> None:
        try:
            results[proposal.pk] = services.proposal_approve(
                proposal=proposal, acting_user=user, reasons=REASONS
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[proposal.pk] = exc
        finally:
            connection.close()

    first = threading.Thread(target=approve, args=(slow, member))
    first.start()
    try:
        assert rendering.wait(timeout=30)
        second = threading.Thread(target=approve, args=(quick, other_member))
        second.start()
        second.join(timeout=10)
        blocked = second.is_alive()
    finally:
        finish.set()
        first.join(timeout=30)
    second.join(timeout=30)

    assert not blocked, "the second approval waited for the first one's PDF: the fund's row was locked"
    assert all(isinstance(r, Decision) for r in results.values()), results
    assert fund.approved_total() == AMOUNT * 2


# --------------------------------------------------------------------------- separate processes

WORKER = """
import json, sys
import django
django.setup()
from django.db import connection
from ccop.errors import RuleViolation
from ccop.models import User
from proposals import services
from proposals.models import Proposal

proposal = Proposal.objects.get(pk=int(sys.argv[1]))
member = User.objects.get(pk=int(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()
try:
    services.proposal_approve(proposal=proposal, acting_user=member, reasons=sys.argv[3])
    result = {"proposal": proposal.pk, "ok": True}
except RuleViolation as exc:
    result = {"proposal": proposal.pk, "ok": False, "code": exc.code, "message": " ".join(exc.messages)}
finally:
    connection.close()
print(json.dumps(result), flush=True)
"""


def _test_database_url() -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        credentials += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{credentials}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_simultaneous_approvals_in_separate_processes_stop_at_the_ceiling():
    """Like app servers: each process its own interpreter, Django and connection; they start
    approving when the test releases them all at once on their stdin. Four processes of
    EUR 20,000 against EUR 50,000 (each a cold start, PDF renderer included): two fit."""
    fund, proposals, members = proposals_under_review(PROCESSES, amount=PROCESS_AMOUNT)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ccop.settings.test",
        "DATABASE_URL": _test_database_url(),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONWARNINGS": "ignore",
    }
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter running our own script
            [sys.executable, "-c", WORKER, str(proposal.pk), str(member.pk), REASONS],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for proposal, member in zip(proposals, members, strict=True)
    ]
    try:
        for process in processes:
            ready = process.stdout.readline().strip()
            assert ready == "ready", process.stderr.read()
        started = time.perf_counter()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        wall = time.perf_counter() - started
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    winners = {r["proposal"] for r in results if r["ok"]}
    losers = [(r["proposal"], r["code"], r["message"]) for r in results if not r["ok"]]
    _assert_ceiling_held(
        fund,
        winners,
        losers,
        amount=PROCESS_AMOUNT,
        expected_winners=2,
        racers=PROCESSES,
        remaining="EUR 10,000.00",
    )
    print(f"\n{PROCESSES} processes: {wall:.3f}s from release to the last result")  # noqa: T201
