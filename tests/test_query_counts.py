"""Every page the sweep knows (from the URL configuration), as each role that sees it, runs the
same number of SQL queries on a small dataset and on one about three times larger: the demo plus
a scale batch (activities' `seed_scale`), then a second batch twice the first. The pages about
one proposal point at the largest proposal of each state of the first batch, and the same
proposals grow by 20 lines between the two measures, so the same page is measured on more rows.
A page added later is measured without a new test. Not timed: speed is `make bench`'s.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.page_census import census, scenario

# Pages whose queries still grow, each with who fixes it. The test fails when one of them stops
# growing, so the entry is removed once the fix lands.
KNOWN_GROWING = {
    "admin:proposals_proposal_change": "one query per budget line and per row's activity choices; "
    "branch `committee` owns proposals/admin/ and fixes it (issue 13)",
}


def grow(proposal, lines: int) -> None:
    """More rows for the pages about this proposal: an activity and `lines` budget lines, with
    their history rows dated like the scale dataset's (the proposal's creation: the audit trail's
    newest page, whose queries depend on the kinds of record on it, stays the same page)."""
    from proposals.models import BudgetLine, PlannedActivity

    activity = PlannedActivity.objects.create(proposal=proposal, title="Added activity", agenda="09:00 Talk")
    added = BudgetLine.objects.bulk_create(
        BudgetLine(
            proposal=proposal,
            activity=activity,
            category=BudgetLine.Category.MEALS,
            description=f"Added line {i}",
            unit="meal",
            quantity=Decimal("2"),
            unit_cost=Decimal("3.50"),
            currency="EUR",
            order=1000 + i,
        )
        for i in range(lines)
    )
    BudgetLine.history.bulk_history_create(added, default_date=proposal.created_at)


@pytest.fixture
def two_sizes(db, settings):
    """The same pages (the same proposals, people and invitation) on the demo plus a small batch,
    then on about three times the data: a second batch twice the first, and the pages' own
    proposals grown by 20 lines each."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", verbosity=0)
    call_command("seed_scale", scale=0.01, big_lines=10, verbosity=0)
    pages = scenario()
    small = {m.key: m for m in census(s=pages)}
    call_command("seed_scale", scale=0.02, big_lines=30, verbosity=0)
    for proposal in (pages.draft, pages.under_review, pages.approved, pages.submitted_with_versions):
        grow(proposal, 20)
    large = {m.key: m for m in census(s=pages)}
    return small, large


def test_every_page_runs_the_same_queries_on_three_times_the_data(two_sizes):
    small, large = two_sizes
    assert len({key[1] for key in small}) >= 100, "the census found fewer pages than the portal has"
    # A model with no row yet at the small size (e.g. django-axes' access logs) has no change
    # page there: compare the pages both sizes have.
    assert len(small.keys() & large.keys()) >= 0.95 * len(large), sorted(large.keys() - small.keys())
    small = {k: v for k, v in small.items() if k in large}
    assert ("grantee staff", "proposals:proposal-edit", "draft") in small
    errors = [f"{k}: {small[k].status} then {large[k].status}" for k in small if small[k].status >= 500]
    errors += [f"{k}: {large[k].status}" for k in large if large[k].status >= 500]
    assert not errors, "server errors:\n" + "\n".join(errors)

    grew = {
        key: (small[key].queries, large[key].queries)
        for key in small
        if small[key].queries != large[key].queries and key[1] not in KNOWN_GROWING
    }
    assert not grew, (
        "pages whose number of queries changes with the amount of data (role, page, variant: "
        "small -> large):\n"
        + "\n".join(f"  {k}: {a} -> {b}  {large[k].url}" for k, (a, b) in sorted(grew.items()))
    )
    still_growing = {name for (_, name, _) in small if name in KNOWN_GROWING} & {
        key[1] for key in small if large[key].queries > small[key].queries
    }
    fixed = set(KNOWN_GROWING) - still_growing
    assert not fixed, f"no longer growing: remove from KNOWN_GROWING: {sorted(fixed)}"
