"""The scale dataset (activities' `seed_scale`, issue 13) is what the benchmarks and the
query-count test stand on: seeded and reproducible, shaped like the issue's numbers, with a
history row per record, and obeying the rules it bypasses the services for."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from ccop.models import CoP, CountryProgramme, Organisation
from grants.models import Fund, Grant
from proposals import permissions, services
from proposals.models import BudgetLine, Decision, Proposal, Review
from proposals.permissions import has_conflict

pytestmark = pytest.mark.django_db


def fingerprint() -> list:
    return list(
        Proposal.objects.filter(cop__code__startswith="s1-")
        .order_by("pk")
        .values_list("title", "status", "cop__code", "budget_option")
    ) + list(
        BudgetLine.objects.filter(proposal__cop__code__startswith="s1-")
        .order_by("pk")
        .values_list("description", "unit_cost")
    )


@pytest.fixture
def scale(db):
    call_command("seed_demo", verbosity=0)
    call_command("seed_scale", scale=0.01, big_lines=20, verbosity=0)


def test_the_shape_follows_the_issue(scale):
    assert CountryProgramme.objects.count() == 10
    scaled = Proposal.objects.filter(cop__code__startswith="s1-")
    assert scaled.count() == 50
    assert scaled.filter(cop__country_programme__code="KH").count() == 40  # 4,000 of 5,000
    assert Grant.objects.filter(proposal__in=scaled).count() == 4  # 350 × 0.01, rounded
    assert 15 <= BudgetLine.objects.filter(proposal__in=scaled).count() / 50 <= 40  # 110,000 / 5,000 = 22
    assert scaled.filter(title__regex="[\u1780-\u17ff]").exists()  # Khmer text
    assert set(scaled.values_list("status", flat=True)) >= {"draft", "submitted", "approved", "rejected"}
    # The largest proposal of each state in Cambodia has `big_lines` lines and 20 activities.
    drafts = scaled.filter(status="draft", cop__country_programme__code="KH")
    biggest = sorted(drafts, key=lambda p: (-p.budget_lines.count(), p.pk))[0]  # as tests/page_census
    assert biggest.budget_lines.count() == 20 and biggest.activities.count() == 20


def test_every_record_has_its_history(scale):
    for model in (Organisation, CoP, Proposal, BudgetLine, Review, Decision, Grant):
        rows = model.objects.count()
        assert model.history.values("id").distinct().count() >= rows, model.__name__


def test_the_rules_hold_in_the_data(scale):
    scaled = Proposal.objects.filter(cop__code__startswith="s1-").select_related("cop", "fund", "phase")
    submitted = [p for p in scaled if p.status not in permissions.APPLICANT_EDITABLE]
    valid = services.valid_endorsement_organisation_ids_for(submitted)
    for proposal in submitted:  # rule 1: at least two endorsing grantees of the content
        assert len(valid[proposal.pk]) >= 2, proposal.pk
    for fund in Fund.objects.filter(name__contains="batch 1"):  # rule 2
        assert (fund.grants.aggregate(total=Sum("amount"))["total"] or 0) <= fund.ceiling
    for decision in Decision.objects.filter(proposal__in=scaled, outcome="approved"):  # rule 4
        assert services.digest(decision.approved_version) == decision.approved_version_sha256
    for review in Review.objects.filter(proposal__in=scaled).select_related("proposal", "reviewer"):  # rule 5
        assert not has_conflict(review.reviewer, review.proposal)


def test_the_same_seed_gives_the_same_rows(db):
    call_command("seed_demo", verbosity=0)
    before = transaction.savepoint()
    call_command("seed_scale", scale=0.005, big_lines=10, verbosity=0)
    first = fingerprint()
    transaction.savepoint_rollback(before)
    assert not Proposal.objects.filter(cop__code__startswith="s1-").exists()
    call_command("seed_scale", scale=0.005, big_lines=10, verbosity=0)
    assert fingerprint() == first and len(first) > 25
