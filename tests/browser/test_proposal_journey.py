"""A joint proposal in a real browser, from first draft to submission: two staff of two member
organisations of one CoP draft, co-edit, endorse and submit it (at 360 and 1280 px, and with the
keyboard alone); a one-organisation proposal is refused with every missing piece linked; a stale
save is refused without losing what was typed; staff of an outside organisation get 404."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from proposals import services
from proposals.models import Proposal
from tests.browser.conftest import ACTION_TIMEOUT_MS
from tests.browser.helpers import (
    PHONE,
    TEST_PASSWORD,
    assert_no_horizontal_overflow,
    assert_no_serious_axe_violations,
    each_viewport,
    focused,
    login,
    tab_to,
    wait_for_path,
)
from tests.factories import (
    CoPFactory,
    CountryProgrammeFactory,
    FundFactory,
    grantee_with_staff,
    ready_proposal,
)

pytestmark = pytest.mark.browser

S = Proposal.Status
VOID = "Void: the proposal changed after this organisation endorsed it"


# --------------------------------------------------------------------------- helpers


def check_page(page: Page) -> None:
    """No serious or critical axe violation, nothing wider than the window."""
    assert_no_serious_axe_violations(page)
    assert_no_horizontal_overflow(page)


def open_page(new_context, viewport: dict) -> Page:
    """A second person's browser: its own context (cookies, storage), set up like `page`'s."""
    context = new_context(viewport=viewport, locale="en", reduced_motion="reduce")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context.new_page()


def url(live_server, name: str, proposal: Proposal | int | None = None) -> str:
    args = [getattr(proposal, "pk", proposal)] if proposal is not None else []
    return live_server.url + reverse(f"proposals:{name}", args=args)


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def submit(page: Page, action) -> None:
    """Run `action` (a click or a key press that posts a form) and wait for the page after it."""
    with page.expect_navigation():
        action()
    page.wait_for_load_state()


def alerts(page: Page) -> str:
    return " ".join(page.locator("main .alert").all_inner_texts())


def endorsement_of(page: Page, acronym: str) -> str:
    """The endorsement cell of an applicant's row on the proposal page."""
    row = page.locator("#section-applicants tbody tr").filter(has_text=f"{acronym} –")
    return row.locator("td").first.inner_text()


def status_badge(page: Page) -> str:
    return page.locator("main h1 + p .status-badge").inner_text()


@pytest.fixture
def cop(transactional_db):
    """One CoP with two grantee member organisations (one staff each) and a fund open today."""
    programme = CountryProgrammeFactory()
    cop = CoPFactory(name="Disability rights CoP", country_programme=programme)
    fund = FundFactory(name="CCoP fund 2025", country_programme=programme, currency="EUR")
    a = grantee_with_staff(cop, "ADA")
    b = grantee_with_staff(cop, "BTS")
    a.first_name, b.first_name = "Sokha", "Vanna"
    a.save(update_fields=["first_name"])
    b.save(update_fields=["first_name"])
    return SimpleNamespace(cop=cop, fund=fund, a=a, b=b)


# --------------------------------------------------------------------------- 1. the whole journey


@each_viewport
def test_two_organisations_draft_co_edit_endorse_and_submit(page, live_server, new_context, viewport, cop):
    # --- A starts the proposal from the home page
    login(page, live_server, cop.a)
    page.get_by_role("link", name="Start a proposal").click()
    wait_for_path(page, reverse("proposals:proposal-create"))
    check_page(page)
    page.get_by_label("Community of practice").select_option(label="Disability rights CoP")
    page.locator("#id_fund").select_option(str(cop.fund.pk))
    page.locator("#id_title").fill("Theatre for the voice of people with disabilities")
    submit(page, lambda: page.get_by_role("button", name="Start the proposal").click())
    proposal = Proposal.objects.get()
    assert path_of(page) == reverse("proposals:proposal-edit", args=[proposal.pk])
    assert "Proposal started" in alerts(page)

    # --- the narrative
    page.locator("#id_problem_analysis").fill("People with disabilities are not heard in commune planning.")
    page.locator("#id_objectives").fill("Commune councils hear and answer people with disabilities.")
    page.get_by_role("checkbox", name="People with disabilities").check()
    page.locator("#id_provinces").fill("Battambang")
    page.locator("#id_starts_on").fill("2025-03-01")
    page.locator("#id_ends_on").fill("2025-09-30")
    page.locator("#id_budget_option_0").check()

    # --- an activity with a draft agenda (the page offers one empty row to start)
    page.locator("#id_activities-0-title").fill("Community theatre day")
    page.locator("#id_activities-0-place").fill("Battambang town hall")
    page.locator("#id_activities-0-starts_on").fill("2025-04-10")
    page.locator("#id_activities-0-ends_on").fill("2025-04-10")
    expect(page.locator("#id_activities-0-is_primary")).to_be_checked()
    page.locator("#id_activities-0-agenda").fill("09:00 Welcome\n10:00 Performance\n12:00 Reflection")
    page.locator("#id_activities-0-participants_pwd").fill("40")

    # --- budget lines: the first empty row, then one more through "Add another budget line"
    page.locator("#id_lines-0-category").select_option("venue")
    page.locator("#id_lines-0-description").fill("Hall hire")
    page.locator("#id_lines-0-unit").fill("day")
    page.locator("#id_lines-0-quantity").fill("1")
    page.locator("#id_lines-0-unit_cost").fill("300")
    page.get_by_role("button", name="Add another budget line").click()
    new_row = page.locator("#id_lines-1-category")
    expect(new_row).to_be_focused()  # htmx brought the row and moved the focus to it
    new_row.select_option("meals")
    page.locator("#id_lines-1-description").fill("Lunch for participants")
    page.locator("#id_lines-1-unit").fill("meal")
    page.locator("#id_lines-1-quantity").fill("40")
    page.locator("#id_lines-1-unit_cost").fill("3.25")
    # The totals are worked out on the server as the lines change: 300 + 40 x 3.25.
    expect(page.locator("#budget-totals .budget-total")).to_contain_text("EUR 430.00")
    check_page(page)  # the edit page, filled in, with the row htmx added
    submit(page, lambda: page.locator(".save-bar").get_by_role("button", name="Save", exact=True).click())
    assert path_of(page) == reverse("proposals:proposal-edit", args=[proposal.pk])
    assert "Saved." in alerts(page)
    proposal.refresh_from_db()
    assert proposal.objectives == "Commune councils hear and answer people with disabilities."
    # (A browser sends a textarea's line breaks as CRLF, as HTML says.)
    agenda = proposal.activities.get().agenda.replace("\r\n", "\n")
    assert agenda == "09:00 Welcome\n10:00 Performance\n12:00 Reflection"
    assert sorted(line.total for line in proposal.budget_lines.all()) == [
        Decimal("130.00"),
        Decimal("300.00"),
    ]

    # --- organisation B as applicant, then A endorses
    page.get_by_role("link", name=proposal.title).click()  # the breadcrumb
    wait_for_path(page, reverse("proposals:proposal-detail", args=[proposal.pk]))
    page.get_by_label("Add a member organisation of the CoP as an applicant").select_option(
        str(cop.b.organisation_id)
    )
    submit(page, lambda: page.get_by_role("button", name="Add applicant").click())
    assert "BTS is now an applicant" in alerts(page)
    submit(page, lambda: page.get_by_role("button", name="Endorse this proposal for ADA").click())
    assert "You endorsed the proposal for ADA" in alerts(page)
    assert endorsement_of(page, "ADA").startswith("✓ Endorsed")
    assert endorsement_of(page, "BTS").startswith("✗ Not endorsed yet")
    check_page(page)

    # --- B, in another browser, co-edits the draft: A's endorsement is void
    page_b = open_page(new_context, viewport)
    login(page_b, live_server, cop.b)
    waiting = page_b.locator("section[aria-labelledby=waiting-heading]")  # home: waiting for BTS
    waiting.get_by_role("link", name=proposal.title).click()
    wait_for_path(page_b, reverse("proposals:proposal-detail", args=[proposal.pk]))
    page_b.locator("main").get_by_role("link", name="Edit", exact=True).click()
    wait_for_path(page_b, reverse("proposals:proposal-edit", args=[proposal.pk]))
    warning = page_b.get_by_role("note")
    expect(warning).to_contain_text("Saving changes voids the endorsements given so far")
    expect(warning).to_contain_text("ADA")
    check_page(page_b)
    page_b.locator("#id_objectives").fill(
        "Commune councils hear, answer and budget for people with disabilities."
    )
    submit(page_b, lambda: page_b.get_by_role("button", name="Save and view the proposal").click())
    assert path_of(page_b) == reverse("proposals:proposal-detail", args=[proposal.pk])
    assert "Saved." in alerts(page_b)
    assert VOID in endorsement_of(page_b, "ADA")
    submit(page_b, lambda: page_b.get_by_role("button", name="Endorse this proposal for BTS").click())
    assert endorsement_of(page_b, "BTS").startswith("✓ Endorsed")

    # --- A sees the void endorsement, endorses again and submits
    page.reload()
    assert VOID in endorsement_of(page, "ADA")
    expect(page.locator("#checklist")).to_contain_text("ADA endorsed an earlier version")
    submit(page, lambda: page.get_by_role("button", name="Endorse this proposal for ADA").click())
    expect(page.locator("#checklist")).to_contain_text("Everything is ready")
    submit(page, lambda: page.get_by_role("button", name="Submit to the committee").click())
    assert "Submitted." in alerts(page)
    assert status_badge(page).endswith("Submitted")
    check_page(page)
    proposal.refresh_from_db()
    assert proposal.status == S.SUBMITTED
    assert proposal.objectives.startswith("Commune councils hear, answer and budget")


# --------------------------------------------------------------------------- 2. refused submission


def test_one_organisation_proposal_is_refused_with_each_missing_piece_linked(
    page, live_server, transactional_db
):
    proposal, (staff,) = ready_proposal(applicants=1)
    services.proposal_update(
        proposal=proposal, acting_user=staff, data={"objectives": ""}, expected_revision=proposal.revision
    )
    login(page, live_server, staff)
    page.goto(url(live_server, "proposal-detail", proposal))
    submit(page, lambda: page.get_by_role("button", name="Submit to the committee").click())

    assert urlsplit(page.url).fragment == "checklist"
    assert "The proposal was not submitted" in alerts(page)
    items = page.locator("#checklist .problem-list > li")
    texts = items.all_inner_texts()
    assert any("needs at least two grantee partner organisations" in t for t in texts), texts
    assert any("At least two grantee partner organisations must endorse" in t for t in texts), texts
    assert "Write the objectives." in texts
    for item in items.all():
        expect(item.locator("a")).to_have_count(1)  # every missing piece is a link
    detail = reverse("proposals:proposal-detail", args=[proposal.pk])
    two_grantees = items.filter(has_text="needs at least two grantee partner organisations").locator("a")
    expect(two_grantees).to_have_attribute("href", f"{detail}#section-applicants")
    expect(page.locator("#section-applicants")).to_contain_text("Applicant organisations")
    check_page(page)

    # The link to a missing narrative piece opens the edit page at its field.
    page.get_by_role("link", name="Write the objectives.").click()
    wait_for_path(page, reverse("proposals:proposal-edit", args=[proposal.pk]))
    assert urlsplit(page.url).fragment == "id_objectives"
    expect(page.locator("#id_objectives")).to_be_in_viewport()
    proposal.refresh_from_db()
    assert proposal.status == S.DRAFT


# --------------------------------------------------------------------------- 3. stale save


def test_stale_save_is_refused_and_keeps_what_was_typed(page, live_server, new_context, transactional_db):
    proposal, staff = ready_proposal()
    edit = url(live_server, "proposal-edit", proposal)
    login(page, live_server, staff[0])
    page.goto(edit)
    other = open_page(new_context, PHONE)
    login(other, live_server, staff[1])
    other.goto(edit)

    page.locator("#id_provinces").fill("Battambang, Pursat")
    submit(page, lambda: page.locator(".save-bar").get_by_role("button", name="Save", exact=True).click())
    assert "Saved." in alerts(page)

    typed = "Raise awareness through theatre, radio and a commune forum."
    other.locator("#id_objectives").fill(typed)
    submit(other, lambda: other.locator(".save-bar").get_by_role("button", name="Save", exact=True).click())
    stale = other.locator("#stale-alert")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("Not saved: someone else saved this proposal after you opened it")
    expect(stale).to_be_focused()
    expect(other.locator("#id_objectives")).to_have_value(typed)
    check_page(other)
    proposal.refresh_from_db()
    assert proposal.provinces == "Battambang, Pursat"
    assert proposal.objectives == "Raise awareness through community theatre."

    # Knowing, the second person may still save their version.
    submit(other, lambda: other.get_by_role("button", name="Save my version over theirs").click())
    assert "Saved." in alerts(other)
    proposal.refresh_from_db()
    assert proposal.objectives == typed


# --------------------------------------------------------------------------- 4. outsiders


def test_outside_organisation_gets_404_everywhere(page, live_server, transactional_db):
    proposal, _staff = ready_proposal(endorse=False)
    outsider = grantee_with_staff(CoPFactory(name="Another CoP"), "OUT")
    login(page, live_server, outsider)
    for name in ("proposal-detail", "proposal-edit", "proposal-versions"):
        response = page.goto(url(live_server, name, proposal))
        assert response.status == 404, name
        assert proposal.title not in page.content()

    # Nor can they change it: every action answers 404 too, and nothing changes.
    page.goto(live_server.url + "/")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    posts = {
        "proposal-edit": {"revision": str(proposal.revision), "title": "Taken over"},
        "proposal-endorse": {},
        "proposal-submit": {},
        "applicant-add": {"organisation": str(outsider.organisation_id)},
        "applicant-remove": {"organisation": str(proposal.applicants.first().organisation_id)},
    }
    for name, form in posts.items():
        response = page.request.post(
            url(live_server, name, proposal), form={"csrfmiddlewaretoken": token, **form}
        )
        assert response.status == 404, name
    before = proposal.revision
    proposal.refresh_from_db()
    assert (
        proposal.title,
        proposal.revision,
        proposal.endorsements.count(),
        proposal.applicants.count(),
    ) == (
        "Amplify the voice of the community through theatre",
        before,
        0,
        2,
    )
    page.goto(url(live_server, "proposal-list"))
    expect(page.locator("main")).not_to_contain_text(proposal.title)


# --------------------------------------------------------------------------- 5. keyboard alone


def press_enter_and_wait(page: Page, key: str = "Enter") -> None:
    submit(page, lambda: page.keyboard.press(key))


@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="phone")])
def test_key_steps_with_the_keyboard_alone(page, live_server, cop, viewport):
    # Log in.
    page.goto(live_server.url + "/accounts/login/")
    tab_to(page, "main input[name=username]")
    page.keyboard.type(cop.a.username)
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    press_enter_and_wait(page)
    assert path_of(page) == "/"

    # Open the create page and fill its form.
    tab_to(page, f'main a[href="{reverse("proposals:proposal-create")}"]')
    press_enter_and_wait(page)
    tab_to(page, "main select[name=cop]")
    page.keyboard.press("ArrowDown")
    assert page.locator("#id_cop").evaluate("el => el.selectedOptions[0].text") == "Disability rights CoP"
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "fund"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "title"
    page.keyboard.type("Keyboard proposal")
    press_enter_and_wait(page)
    proposal = Proposal.objects.get()
    assert path_of(page) == reverse("proposals:proposal-edit", args=[proposal.pk])

    # Fill the narrative and save.
    tab_to(page, "#id_problem_analysis", max_presses=60)
    page.keyboard.type("Nobody asks people with disabilities.")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_objectives"
    page.keyboard.type("Commune councils listen.")
    tab_to(page, "#id_provinces")
    page.keyboard.type("Siem Reap")
    press_enter_and_wait(page)  # Enter in a text field saves the page
    assert "Saved." in alerts(page)
    proposal.refresh_from_db()
    assert (proposal.problem_analysis, proposal.objectives, proposal.provinces) == (
        "Nobody asks people with disabilities.",
        "Commune councils listen.",
        "Siem Reap",
    )

    # To the proposal page (the breadcrumb), add B as applicant and endorse.
    detail = reverse("proposals:proposal-detail", args=[proposal.pk])
    tab_to(page, f'main a[href="{detail}"]')
    press_enter_and_wait(page)
    assert path_of(page) == detail
    tab_to(page, "#add-applicant", max_presses=80)
    page.keyboard.type("BTS")  # type-ahead in the list
    assert page.locator("#add-applicant").input_value() == str(cop.b.organisation_id)
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Add applicant"
    press_enter_and_wait(page)
    assert "BTS is now an applicant" in alerts(page)
    tab_to(page, ".endorse-form button[type=submit]", max_presses=80)
    press_enter_and_wait(page, "Space")
    assert "You endorsed the proposal for ADA" in alerts(page)
    assert list(proposal.endorsements.values_list("organisation__acronym", flat=True)) == ["ADA"]
