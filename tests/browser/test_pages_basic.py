"""The pages every person meets first: log in, password reset, home. Each at 360 and 1280 px:
no serious or critical axe violation, no horizontal scroll, the skip link first, and the forms
usable with the keyboard alone."""

import re

import pytest
from django.core import mail

from tests.browser.helpers import (
    TEST_PASSWORD,
    assert_no_horizontal_overflow,
    assert_no_serious_axe_violations,
    assert_skip_link_works,
    each_viewport,
    focused,
    login,
    tab_to,
    wait_for_path,
)
from tests.factories import CoPFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.browser


def check_page(page):
    assert_no_serious_axe_violations(page)
    assert_no_horizontal_overflow(page)
    assert_skip_link_works(page)


@pytest.fixture
def staff(transactional_db):
    person = StaffFactory(first_name="Sokha")
    MembershipFactory(organisation=person.organisation, cop=CoPFactory(name="Disability rights CoP"))
    return person


@each_viewport
def test_login_page(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    check_page(page)


@each_viewport
def test_login_errors_are_accessible(page, live_server, staff):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("main input[name=username]").fill(staff.username)
    page.locator("main input[name=password]").fill("not-the-password")
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("main").get_by_text(re.compile("correct username and password")).is_visible()
    check_page(page)


@each_viewport
def test_log_in_with_the_keyboard_alone(page, live_server, staff):
    page.goto(f"{live_server.url}/accounts/login/")
    tab_to(page, "main input[name=username]")
    page.keyboard.type(staff.username)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password"
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    wait_for_path(page, "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Sokha"


@each_viewport
def test_home_page(page, live_server, staff):
    login(page, live_server, staff)
    assert page.url == f"{live_server.url}/"
    assert page.get_by_text("Disability rights CoP").is_visible()
    check_page(page)


@each_viewport
def test_password_reset_from_request_to_new_password(page, live_server, staff):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    wait_for_path(page, "/accounts/password_reset/")
    check_page(page)

    tab_to(page, "main input[name=email]")
    page.keyboard.type(staff.email)
    page.keyboard.press("Enter")
    wait_for_path(page, "/accounts/password_reset/done/")
    check_page(page)

    assert [m.to for m in mail.outbox] == [[staff.email]]
    link = re.search(r"http://\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)  # Django swaps the token for a session key and redirects to .../set-password/
    assert page.get_by_role("heading", level=1).inner_text() == "Choose a new password"
    check_page(page)

    tab_to(page, "main input[name=new_password1]")
    page.keyboard.type("another-long-password-2")
    page.keyboard.press("Tab")
    page.keyboard.type("another-long-password-2")
    page.keyboard.press("Enter")
    wait_for_path(page, "/accounts/reset/done/")
    check_page(page)

    login(page, live_server, staff, password="another-long-password-2")
    assert page.url == f"{live_server.url}/"
