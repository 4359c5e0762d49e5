"""The committee decides in the admin, in a real browser: a member logs in through the admin's
own login page, opens a proposal under review, follows "Approve", gives the reasons and approves
(with the mouse, and with the keyboard alone); a member with a conflict of interest is not
offered the decision."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from ccop.models import User
from ccop.roles import user_set_role
from grants.models import Grant
from proposals import services
from proposals.models import Proposal
from tests.browser.helpers import (
    TEST_PASSWORD,
    TWO_FACTOR_VERIFY_PATH,
    focused,
    pass_two_factor,
    skip_to_content,
    tab_to,
    wait_for_path,
)
from tests.factories import CommitteeMemberFactory, under_review
from tests.two_factor import totp_code, totp_device

pytestmark = pytest.mark.browser

REASONS = "Two grantees, a clear agenda, a budget within the fund."
ADMIN_LOGIN = "/admin/login/"


def admin_login(page: Page, live_server, user) -> None:
    """Log in through the admin's login form, type the two-step login code the portal then asks
    for, and wait for the admin's index."""
    page.goto(f"{live_server.url}{ADMIN_LOGIN}")
    page.locator("#id_username").fill(user.get_username())
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(lambda url: urlsplit(url).path != ADMIN_LOGIN)
    pass_two_factor(page, user)
    wait_for_path(page, reverse("admin:index"))


def change_url(live_server, proposal: Proposal) -> str:
    return live_server.url + reverse("admin:proposals_proposal_change", args=[proposal.pk])


def decide_path(proposal: Proposal, decision: str) -> str:
    return reverse("admin:proposals_proposal_decide", args=[proposal.pk, decision])


def status_shown(page: Page) -> str:
    return page.locator(".field-status .readonly").inner_text().strip()


@pytest.fixture
def review(transactional_db):
    """A proposal under review and a committee member of its programme, in the member's group."""
    proposal, staff, member = under_review()
    user_set_role(user=member, role=User.Role.COMMITTEE_MEMBER)
    return proposal, staff, member


def assert_approved(page: Page, proposal: Proposal, member) -> None:
    wait_for_path(page, reverse("admin:proposals_proposal_change", args=[proposal.pk]))
    expect(page.locator(".messagelist .success")).to_contain_text(f"Approve: {proposal.title}")
    assert status_shown(page) == "Approved"
    expect(page.get_by_role("link", name="Approve", exact=True)).to_have_count(0)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert (proposal.decision.decided_by, proposal.decision.reasons) == (member, REASONS)
    assert Grant.objects.get(proposal=proposal).approved_by == member


def test_committee_member_approves_in_the_admin(page, live_server, review):
    proposal, _staff, member = review
    admin_login(page, live_server, member)
    page.goto(change_url(live_server, proposal))
    assert status_shown(page) == "Under review"
    expect(page.locator("#decision-heading + dl")).to_contain_text("Remaining")

    decision = page.locator("section:has(#decision-heading)")  # also in the object tools, above
    decision.get_by_role("link", name="Approve", exact=True).click()
    wait_for_path(page, decide_path(proposal, "approve"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Approve: {proposal.title}")
    page.get_by_label("Reason / comment").fill(REASONS)
    page.get_by_role("button", name="Approve").click()

    assert_approved(page, proposal, member)


def test_committee_member_approves_with_the_keyboard_alone(page, live_server, review):
    proposal, _staff, member = review
    totp_device(member)  # an authenticator set up already: the portal asks for its code
    page.goto(
        f"{live_server.url}{ADMIN_LOGIN}?next={reverse('admin:proposals_proposal_change', args=[proposal.pk])}"
    )
    if focused(page)["id"] != "id_username":  # the admin's login page focuses it itself
        tab_to(page, "#id_username")
    page.keyboard.type(member.username)
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    wait_for_path(page, TWO_FACTOR_VERIFY_PATH)  # the code field has the focus
    assert focused(page)["name"] == "code"
    page.keyboard.type(totp_code(member))
    page.keyboard.press("Enter")
    wait_for_path(page, reverse("admin:proposals_proposal_change", args=[proposal.pk]))

    skip_to_content(page)  # past the admin's navigation, as a keyboard user would
    tab_to(page, f'a[href="{decide_path(proposal, "approve")}"]')
    page.keyboard.press("Enter")
    wait_for_path(page, decide_path(proposal, "approve"))
    skip_to_content(page)
    tab_to(page, "#id_reason")
    page.keyboard.type(REASONS)
    tab_to(page, "#content form button[type=submit]")
    page.keyboard.press("Enter")

    assert_approved(page, proposal, member)


@pytest.mark.parametrize("how", ["organisation", "declared"])
def test_conflicted_member_is_not_offered_the_decision(page, live_server, review, how):
    proposal, _staff, _member = review
    programme = proposal.cop.country_programme
    if how == "organisation":  # staff of an applicant organisation, also on the committee
        conflicted = CommitteeMemberFactory(
            country_programme=programme, organisation=proposal.applicants.first().organisation
        )
    else:
        conflicted = CommitteeMemberFactory(country_programme=programme)
    user_set_role(user=conflicted, role=User.Role.COMMITTEE_MEMBER)
    if how == "declared":
        services.conflict_declare(proposal=proposal, member=conflicted, reason="My sister runs an applicant.")
    admin_login(page, live_server, conflicted)
    page.goto(change_url(live_server, proposal))

    expect(page.locator("#content-main")).to_contain_text(
        "You have a conflict of interest on this proposal: you cannot review or decide it."
    )
    for name in ("Approve", "Reject", "Request revision"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    # The address typed by hand is refused with the same words, and nothing changes.
    page.goto(live_server.url + decide_path(proposal, "approve"))
    assert urlsplit(page.url).path == reverse("admin:proposals_proposal_change", args=[proposal.pk])
    expect(page.locator(".messagelist .error")).to_contain_text("You have a conflict of interest")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.UNDER_REVIEW
