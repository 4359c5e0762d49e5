"""Guessing passwords: five wrong ones for a user name from one address pause that pair for 15
minutes (portal and admin login alike, django-axes); strong passwords; sessions that end."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from ccop.accounts.throttling import client_ip
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def attempt(client, user, password, *, url=None, address="127.0.0.1"):
    return client.post(
        url or reverse("login"), {"username": user.username, "password": password}, REMOTE_ADDR=address
    )


def lock_out(client, user, *, url=None, address="127.0.0.1"):
    for n in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = attempt(client, user, f"wrong guess {n}", url=url, address=address)
    return response


def test_five_wrong_passwords_lock_out_that_user_name_from_that_address(client):
    user = StaffFactory()
    for n in range(1, settings.AXES_FAILURE_LIMIT):
        response = attempt(client, user, f"wrong guess {n}")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()
    response = attempt(client, user, "wrong guess 5")
    assert response.status_code == 429
    # Even the right password is refused during the pause.
    assert attempt(client, user, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_says_when_to_try_again_and_how_to_reset_the_password(client):
    user = StaffFactory()
    before = timezone.localtime()
    response = lock_out(client, user)
    assert response.status_code == 429
    assert "default-src 'self'" in response["Content-Security-Policy"]
    page = unescape(response.content.decode())
    assert 'href="#main"' in page  # the portal's own page (base.html)
    assert re.search(r"<h1[^>]*>Too many attempts: wait before you try again</h1>", page)
    assert "logging in is paused for 15 minutes" in page
    retry = re.search(r"try again after (\d\d:\d\d)", page).group(1)
    expected = {(before + datetime.timedelta(minutes=m)).strftime("%H:%M") for m in (15, 16)}
    assert retry in expected  # the clock time, in Phnom Penh time
    assert f'href="{reverse("password_reset")}"' in page
    assert 'role="alert"' in page


def test_other_addresses_and_other_user_names_are_not_locked_out(client):
    user, other = StaffFactory(), StaffFactory()
    lock_out(client, user)
    assert attempt(client, other, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert attempt(client, user, PASSWORD, address="10.1.2.3").status_code == 302


def test_a_right_password_clears_the_count(client):
    user = StaffFactory()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, user, f"wrong guess {n}")
    assert attempt(client, user, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, user, f"wrong again {n}").status_code == 200
    assert attempt(client, user, PASSWORD).status_code == 302


def test_after_the_cool_off_the_right_password_works(client):
    user = StaffFactory()
    lock_out(client, user)
    # Fifteen minutes and a second later (the attempts are rows: move their clock back).
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=15, seconds=1))
    assert attempt(client, user, PASSWORD).status_code == 302


def test_a_wrong_password_during_the_pause_starts_it_again(client):
    user = StaffFactory()
    lock_out(client, user)
    fourteen_minutes_ago = timezone.now() - datetime.timedelta(minutes=14)
    AccessAttempt.objects.update(attempt_time=fourteen_minutes_ago)
    assert attempt(client, user, "one more guess").status_code == 429
    latest = AccessAttempt.objects.get(username=user.username).attempt_time
    assert latest > timezone.now() - datetime.timedelta(minutes=1)  # 15 minutes from now again
    assert attempt(client, user, PASSWORD).status_code == 429


def test_the_admin_login_is_throttled_too(client):
    user = StaffFactory(is_staff=True)
    response = lock_out(client, user, url=reverse("admin:login"))
    assert response.status_code == 429
    assert attempt(client, user, PASSWORD, url=reverse("admin:login")).status_code == 429
    # The same pause covers the portal's login page: it is one user name from one address.
    assert attempt(client, user, PASSWORD).status_code == 429


def test_a_new_password_from_the_emailed_link_lifts_the_lockout(client):
    user = StaffFactory(email="locked.out@example.org")
    lock_out(client, user)
    client.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link)
    assert response.status_code == 302  # the token swapped for the set-password address
    new = "a-brand-new-long-password"
    response = client.post(response.url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert attempt(client, user, new).status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_load_balancer_the_address_it_saw_counts():
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    # "6.6.6.6" was written by the client itself; the load balancer appended what it saw.
    assert client_ip(request) == "203.0.113.9"
    assert client_ip(RequestFactory().post("/", REMOTE_ADDR="10.0.0.5")) == "10.0.0.5"


def test_without_a_proxy_the_connection_address_counts_and_the_header_is_ignored():
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "198.51.100.7"


def test_spoofed_forwarded_for_does_not_escape_the_lockout(client):
    user = StaffFactory()
    lock_out(client, user)
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.44",
    )
    assert response.status_code == 429


# --- passwords and sessions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["short-pw-11", "123456789012345", "password1234", "qwertyuiop123"],
    ids=["11 characters", "numbers only", "common", "common too"],
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_password_unlike_the_person_is_accepted():
    validate_password("river-lotus-monsoon-42", user=StaffFactory(username="sokha.wpm"))


def test_a_password_like_the_user_name_is_refused():
    user = StaffFactory(username="sokhavanna", email="sokhavanna@example.org")
    with pytest.raises(ValidationError):
        validate_password("sokhavanna2026", user=user)


def test_a_session_ends_after_two_idle_hours_and_each_request_moves_the_end(client):
    user = StaffFactory()
    response = attempt(client, user, PASSWORD)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 2 * 60 * 60
    response = client.get(reverse("home"))
    assert response.status_code == 200
    # The expiry is renewed on every request (not only when the session changes).
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 2 * 60 * 60
    session = client.session
    assert 2 * 60 * 60 - 60 < session.get_expiry_age() <= 2 * 60 * 60
