"""The two-step login pages and the lockout page in Chromium, at 360 and 1280 px: no serious or
critical axe violation, no horizontal scroll, the skip link first, nothing the
Content-Security-Policy refuses, and set-up and code entry with the keyboard alone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from ccop.models import User
from ccop.roles import user_set_role
from tests.browser.helpers import (
    LOGIN_PATH,
    TEST_PASSWORD,
    TWO_FACTOR_BACKUP_CODES_PATH,
    TWO_FACTOR_SETUP_PATH,
    TWO_FACTOR_VERIFY_PATH,
    assert_no_horizontal_overflow,
    assert_no_serious_axe_violations,
    assert_skip_link_works,
    each_viewport,
    focused,
    tab_to,
    wait_for_path,
)
from tests.factories import CommitteeMemberFactory, StaffFactory
from tests.two_factor import code_for, code_from_secret, totp_device

pytestmark = pytest.mark.browser


@pytest.fixture
def violations(page):
    """Content-Security-Policy violations the page reports (securitypolicyviolation events)."""
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def check_page(page, violations):
    assert_no_serious_axe_violations(page)
    assert_no_horizontal_overflow(page)
    assert_skip_link_works(page)
    assert not violations, violations


def password_step(page, live_server, user):
    page.goto(f"{live_server.url}{LOGIN_PATH}")
    page.locator("main input[name=username]").fill(user.username)
    page.locator("main input[name=password]").fill(TEST_PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_url(lambda url: urlsplit(url).path != LOGIN_PATH)
    page.wait_for_load_state()


@each_viewport
def test_set_up_with_the_keyboard_alone(page, live_server, transactional_db, violations):
    member = user_set_role(user=CommitteeMemberFactory(), role=User.Role.COMMITTEE_MEMBER)
    password_step(page, live_server, member)
    wait_for_path(page, TWO_FACTOR_SETUP_PATH)
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-step login"
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    check_page(page, violations)

    # A wrong code: the summary of what to fix takes the focus and links to the field.
    tab_to(page, "main input[name=code]")
    page.keyboard.type("000000")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    page.wait_for_load_state()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'error-summary'")
    check_page(page, violations)

    tab_to(page, "main input[name=code]")
    page.keyboard.press("Control+A")
    page.keyboard.type(code_from_secret(page.locator("#totp-secret").inner_text()))
    page.keyboard.press("Enter")
    wait_for_path(page, TWO_FACTOR_BACKUP_CODES_PATH)
    assert page.locator("main li").count() == 10
    check_page(page, violations)


@each_viewport
def test_code_after_the_password_with_the_keyboard_alone(page, live_server, transactional_db, violations):
    member = user_set_role(user=CommitteeMemberFactory(), role=User.Role.COMMITTEE_MEMBER)
    device = totp_device(member)
    password_step(page, live_server, member)
    wait_for_path(page, TWO_FACTOR_VERIFY_PATH)
    assert focused(page)["name"] == "code"  # the one field of the page has the focus
    check_page(page, violations)
    tab_to(page, "main input[name=code]")
    page.keyboard.type(code_for(device))
    page.keyboard.press("Enter")
    wait_for_path(page, reverse("home"))
    assert not violations, violations


@each_viewport
def test_lockout_page(page, live_server, transactional_db, violations):
    staff = StaffFactory()
    page.goto(f"{live_server.url}{LOGIN_PATH}")
    for n in range(5):
        page.locator("main input[name=username]").fill(staff.username)
        page.locator("main input[name=password]").fill(f"wrong guess {n}")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("main form [type=submit]").click()
        page.wait_for_load_state()
    assert answer.value.status == 429
    assert page.get_by_role("heading", level=1).inner_text() == "Too many attempts: wait before you try again"
    assert page.get_by_role("link", name="Reset my password").is_visible()
    check_page(page, violations)
