import re
import pytest
from django.urls import reverse
from tests.browser.helpers import assert_no_horizontal_overflow, run_axe, format_violations, each_viewport, login, SERIOUS
from tests.factories import ready_proposal, under_review
from proposals import services

pytestmark = pytest.mark.browser


def axe_main(page):
    v = [x for x in run_axe(page, context="main") if x.get("impact") in SERIOUS]
    assert not v, format_violations(v, page.url)


@each_viewport
def test_pages(page, live_server, transactional_db):
    proposal, staff = ready_proposal(endorse=False)
    login(page, live_server, staff[0])
    for name in ["proposal-detail", "proposal-edit", "proposal-versions", "proposal-withdraw"]:
        page.goto(live_server.url + reverse(f"proposals:{name}", args=[proposal.pk]))
        axe_main(page)
        assert_no_horizontal_overflow(page)
    page.goto(live_server.url + reverse("proposals:proposal-create"))
    axe_main(page); assert_no_horizontal_overflow(page)
    # invalid edit
    page.goto(live_server.url + reverse("proposals:proposal-edit", args=[proposal.pk]))
    page.fill("#id_lines-0-quantity", "-3")
    page.fill("#id_title", "")
    page.locator(".save-bar button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    axe_main(page); assert_no_horizontal_overflow(page)


def test_restore_and_htmx(page, live_server, transactional_db):
    proposal, staff = ready_proposal()
    login(page, live_server, staff[0])
    edit = live_server.url + reverse("proposals:proposal-edit", args=[proposal.pk])
    page.goto(edit)
    page.wait_for_function("() => window.htmx")
    page.fill("#id_objectives", "Typed but never saved")
    page.wait_for_timeout(600)
    page.goto(edit)
    page.wait_for_timeout(300)
    assert page.input_value("#id_objectives") == "Typed but never saved"
    assert "We restored what you typed" in page.locator("#keep-input-status").inner_text()
    assert page.locator("#keep-input-offer").is_visible()
    # htmx add a line
    page.click("button[name=add][value=lines]")
    page.wait_for_selector("#id_lines-1-description")
    focused_id = page.evaluate("() => document.activeElement.id")
    print("focused after add:", focused_id)
    assert page.input_value("#id_lines-TOTAL_FORMS") == "2"
    page.select_option("#id_lines-1-category", "meals")
    page.fill("#id_lines-1-description", "Lunch")
    page.fill("#id_lines-1-unit", "meal")
    page.fill("#id_lines-1-quantity", "3")
    page.fill("#id_lines-1-unit_cost", "0.10")
    page.wait_for_function("() => document.querySelector('#budget-totals').innerText.includes('1,000.30')", timeout=5000)
    print("status:", page.locator("#budget-total-status").inner_text())
    # reload: the added row comes back from storage
    page.wait_for_timeout(500)
    page.goto(edit)
    page.wait_for_timeout(300)
    assert page.input_value("#id_lines-1-description") == "Lunch"
    page.locator(".save-bar button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "saved=" not in page.url
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('ccop:unsaved')).length") == 0
    assert proposal.budget_lines.count() == 2
    from proposals.models import Proposal
    assert Proposal.objects.get(pk=proposal.pk).objectives == "Typed but never saved"


def test_session_expiry(page, live_server, transactional_db):
    proposal, staff = ready_proposal()
    login(page, live_server, staff[0])
    edit = live_server.url + reverse("proposals:proposal-edit", args=[proposal.pk])
    page.goto(edit)
    page.fill("#id_objectives", "Typed while the session expired")
    page.wait_for_timeout(500)
    cookies = [c for c in page.context.cookies() if c["name"] != "sessionid"]
    page.context.clear_cookies()
    page.context.add_cookies(cookies)
    page.locator(".save-bar button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url
    form = page.locator("main form:has(input[name=password])")
    form.locator("input[name=username]").fill(staff[0].username)
    form.locator("input[name=password]").fill("a-long-test-password")
    form.locator("[type=submit]").click()
    page.wait_for_url(re.compile("/edit/"))
    page.wait_for_timeout(300)
    assert page.input_value("#id_objectives") == "Typed while the session expired"


def test_stale_then_reload_offer(page, live_server, transactional_db):
    proposal, staff = ready_proposal()
    login(page, live_server, staff[1])
    edit = live_server.url + reverse("proposals:proposal-edit", args=[proposal.pk])
    page.goto(edit)
    services.proposal_update(proposal=proposal, acting_user=staff[0], data={"provinces": "Pursat"}, expected_revision=proposal.revision)
    page.fill("#id_objectives", "Mine")
    page.locator(".save-bar button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("#stale-alert").is_visible()
    assert page.input_value("#id_objectives") == "Mine"
    axe_main(page)
    page.goto(edit)
    page.wait_for_timeout(300)
    assert page.locator("#keep-input-offer").is_visible()
    assert page.input_value("#id_objectives") != "Mine"
    page.click("[data-offer-accept]")
    assert page.input_value("#id_objectives") == "Mine"
    assert page.input_value("#id_provinces") == "Pursat"  # only what I changed comes back


@each_viewport
def test_versions_and_refused_submit(page, live_server, transactional_db):
    proposal, staff, member = under_review()
    services.proposal_request_revision(proposal=proposal, acting_user=member, comment="Budget two days.")
    proposal.refresh_from_db()
    services.proposal_update(proposal=proposal, acting_user=staff[0], data={"title": "New title that is rather long to see wrapping on a phone screen"})
    login(page, live_server, staff[0])
    page.goto(live_server.url + reverse("proposals:proposal-detail", args=[proposal.pk]))
    page.click("text=Submit to the committee")
    page.wait_for_load_state()
    assert "#checklist" in page.url
    axe_main(page); assert_no_horizontal_overflow(page)
    for person in staff:
        services.proposal_endorse(proposal=proposal, acting_user=person)
    proposal.refresh_from_db()
    services.proposal_submit(proposal=proposal, acting_user=staff[0])
    page.goto(live_server.url + reverse("proposals:proposal-versions", args=[proposal.pk]))
    assert "What changed since version 1" in page.content()
    axe_main(page); assert_no_horizontal_overflow(page)


def test_keyboard(page, live_server, transactional_db):
    proposal, staff = ready_proposal()
    login(page, live_server, staff[0])
    edit = live_server.url + reverse("proposals:proposal-edit", args=[proposal.pk])
    page.goto(edit)
    page.wait_for_function("() => window.htmx")
    page.focus("button[name=add][value=lines]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#id_lines-1-category")
    assert page.evaluate("() => document.activeElement.id") == "id_lines-1-category"
    page.focus("#id_provinces")
    page.keyboard.press("End")
    page.keyboard.type(", Pursat")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    from proposals.models import Proposal
    assert Proposal.objects.get(pk=proposal.pk).provinces == "Battambang, Pursat", page.content()[:3000]
