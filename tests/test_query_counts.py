"""Every page the sweep knows (from the URL configuration), as each role that sees it, runs the
same number of SQL queries on a small dataset and on one about three times larger: the demo plus
a scale batch (activities' `seed_scale`), then a second batch twice the first. The pages about
one proposal point at the largest proposal of each state, which grows too (10 budget lines,
then 30). A page added later is measured without a new test. Not timed: speed is `make bench`'s.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.page_census import census

# Pages whose queries still grow, each with who fixes it. The test fails when one of them stops
# growing, so the entry is removed once the fix lands.
KNOWN_GROWING = {
    "admin:proposals_proposal_change": "one query per budget line and per row's activity choices; "
    "branch `committee` owns proposals/admin/ and fixes it (issue 13)",
    "admin:proposals_plannedactivity_change": "its expected-participants inline reads each row's "
    "rightsholder group (at most five); branch `committee` owns proposals/admin/",
}


@pytest.fixture
def two_sizes(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", verbosity=0)
    call_command("seed_scale", scale=0.01, big_lines=10, verbosity=0)
    small = {m.key: m for m in census()}
    call_command("seed_scale", scale=0.02, big_lines=30, verbosity=0)
    large = {m.key: m for m in census()}
    return small, large


def test_every_page_runs_the_same_queries_on_three_times_the_data(two_sizes):
    small, large = two_sizes
    assert len({key[1] for key in small}) >= 100, "the census found fewer pages than the portal has"
    # A model with no row yet at the small size (e.g. django-axes' access logs) has no change
    # page there: compare the pages both sizes have.
    assert len(small.keys() & large.keys()) >= 0.95 * len(large), sorted(large.keys() - small.keys())
    small = {k: v for k, v in small.items() if k in large}
    # The roles are people of the data (staff of the largest draft's applicants): a proposal of
    # another CoP may be theirs at one size and not at the other (a 404). Same answer, same page.
    small = {k: v for k, v in small.items() if v.status == large[k].status}
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
