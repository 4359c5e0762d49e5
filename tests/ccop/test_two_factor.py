"""Two-step login through the real pages: the password on the login page, then the code pages.
Committee members, facilitators and admins must use it (portal and admin alike); grantee staff
may turn it on and off."""

from __future__ import annotations

import re
from base64 import b32decode
from html import unescape

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ccop.accounts import two_factor
from ccop.models import User
from ccop.roles import user_set_role
from tests.admin_helpers import superuser
from tests.conftest import force_login_without_two_factor
from tests.factories import CommitteeMemberFactory, FacilitatorFactory, StaffFactory
from tests.two_factor import code_for, code_from_secret, totp_code, totp_device

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
VERIFY = "/accounts/two-factor/verify/"
SETUP = "/accounts/two-factor/setup/"
BACKUP = "/accounts/two-factor/backup-codes/"


def password_login(client, user, *, login_url=None, next_url=""):
    url = login_url or reverse("login")
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(url + (f"?next={next_url}" if next_url else ""), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def text(response) -> str:
    return unescape(response.content.decode())


def secret_on(page: str) -> str:
    """The secret the set-up page writes out (base32 in groups of four)."""
    return re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page).group(1)


def code_field(page: str) -> str:
    return re.search(r"<input[^>]*name=\"code\"[^>]*>", page).group(0)


ROLES_THAT_MUST = {
    "committee member": lambda: CommitteeMemberFactory(),
    "facilitator": lambda: FacilitatorFactory(),
    "superuser": superuser,
}


# --- who must -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES_THAT_MUST)
def test_roles_that_must_are_sent_to_set_up_after_the_password(client, role):
    user = ROLES_THAT_MUST[role]()
    response = password_login(client, user)
    response = client.get(response.url)
    assert response.status_code == 302 and response.url == f"{SETUP}?next=%2F"
    # Nothing else is reachable, in the portal or in the admin, until a code is typed.
    for url in (
        reverse("home"),
        reverse("proposals:proposal-list"),
        reverse("admin:index"),
        "/admin/ccop/cop/",
    ):
        answer = client.get(url)
        assert answer.status_code == 302 and answer.url.startswith(SETUP), url


def test_grantee_staff_log_in_with_the_password_alone(client):
    staff = StaffFactory()
    response = password_login(client, staff)
    assert client.get(response.url).status_code == 200
    page = text(client.get(reverse("two-factor-manage")))
    assert "Two-step login is off." in page and reverse("two-factor-setup") in page


def test_policy():
    assert two_factor.two_factor_required(CommitteeMemberFactory())
    assert two_factor.two_factor_required(FacilitatorFactory())
    assert two_factor.two_factor_required(superuser())
    assert two_factor.two_factor_required(StaffFactory(is_staff=True))  # can open the admin
    assert not two_factor.two_factor_required(StaffFactory())
    assert two_factor.may_turn_off(StaffFactory()) and not two_factor.may_turn_off(CommitteeMemberFactory())


# --- setting up -----------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_and_the_secret_then_confirms_with_a_first_code(client):
    member = CommitteeMemberFactory()
    password_login(client, member)
    response = client.get(SETUP)
    assert response.status_code == 200
    page = text(response)
    assert not TOTPDevice.objects.filter(user=member).exists()  # looking writes nothing
    # The QR code is drawn on the server, inline, labelled; the secret is written in groups of 4.
    assert re.search(r'<div class="qr-code[^"]*" role="img" aria-label="[^"]+"><svg ', page)
    secret = secret_on(page)
    assert (
        re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", secret) and len(b32decode(secret.replace(" ", ""))) == 20
    )
    # A labelled code field for a phone's numeric keypad and the code the phone may offer.
    field = code_field(page)
    assert 'inputmode="numeric"' in field and 'autocomplete="one-time-code"' in field
    assert re.search(r'<label\s+for="id_code"', page) and "<h1" in page and 'href="#main"' in page
    # Reloading (a weak connection) keeps the same secret.
    assert secret_on(text(client.get(SETUP))) == secret

    # A wrong code: refused, announced, nothing confirmed.
    response = client.post(SETUP, {"code": "000000"})
    assert response.status_code == 200
    page = text(response)
    assert 'role="alert"' in page and "This code is not right" in page
    assert 'aria-invalid="true"' in code_field(page)
    assert not TOTPDevice.objects.filter(user=member, confirmed=True).exists()

    # Computed from the secret shown on the page, as an authenticator app does.
    token = f"{TOTP(b32decode(secret.replace(' ', ''))).token():06d}"
    response = client.post(f"{SETUP}?next=/admin/", {"code": token, "next": "/admin/"})
    assert response.status_code == 302 and response.url == f"{BACKUP}?next=%2Fadmin%2F"
    device = TOTPDevice.objects.get(user=member)
    assert device.confirmed and two_factor.secret_in_groups(device) == secret
    assert code_for(device) != token  # the code that confirmed it cannot be used again

    # The backup codes: ten, of ten digits, shown once.
    page = text(client.get(response.url))
    shown = re.findall(r"<li>(\d{5} \d{5})</li>", page)
    stored = sorted(StaticToken.objects.filter(device__user=member).values_list("token", flat=True))
    assert len(shown) == 10 and sorted(s.replace(" ", "") for s in shown) == stored
    assert 'href="/admin/"' in page  # "continue" goes where the person was going
    assert not re.findall(r"<li>(\d{5} \d{5})</li>", text(client.get(BACKUP)))
    # The session is verified: the admin opens.
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_password_alone_cannot_move_two_step_login_to_another_phone(client):
    member = CommitteeMemberFactory()
    device = totp_device(member)
    password_login(client, member)
    response = client.get(SETUP)
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    response = client.post(SETUP, {"code": "123456"})
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert list(TOTPDevice.objects.filter(user=member)) == [device]


def test_a_new_phone_replaces_the_old_one_and_the_backup_codes(client):
    member = CommitteeMemberFactory()
    old = totp_device(member)
    old_codes = two_factor.backup_codes_replace(user=member)
    password_login(client, member)
    assert client.post(VERIFY, {"code": code_for(old)}).status_code == 302
    secret = secret_on(text(client.get(SETUP)))
    response = client.post(SETUP, {"code": code_from_secret(secret)})
    assert response.status_code == 302
    new = TOTPDevice.objects.get(user=member)
    assert new != old and two_factor.secret_in_groups(new) == secret
    assert not StaticToken.objects.filter(token__in=old_codes).exists()
    assert client.get(reverse("admin:index")).status_code == 200


# --- the code after the password ------------------------------------------------------------


@pytest.mark.parametrize("login_url", ["login", "admin:login"])
def test_code_after_the_password_then_where_the_person_was_going(client, login_url):
    member = user_set_role(user=CommitteeMemberFactory(), role=User.Role.COMMITTEE_MEMBER)
    device = totp_device(member)
    target = "/admin/ccop/cop/"
    response = password_login(client, member, login_url=reverse(login_url), next_url=target)
    assert response.url == target
    response = client.get(target)
    assert response.status_code == 302 and response.url == f"{VERIFY}?next=%2Fadmin%2Fccop%2Fcop%2F"

    page = text(client.get(response.url))
    field = code_field(page)
    assert 'inputmode="numeric"' in field and 'autocomplete="one-time-code"' in field and "autofocus" in field
    assert re.search(r'<label\s+for="id_code"', page)

    response = client.post(response.url, {"code": code_for(device), "next": target})
    assert response.status_code == 302 and response.url == target
    assert client.get(target).status_code == 200
    assert client.get(reverse("home")).status_code == 200


def test_the_logged_in_admin_login_page_leads_to_the_code_then_its_next(client):
    member = CommitteeMemberFactory()
    totp_device(member)
    password_login(client, member)
    response = client.get(reverse("admin:login") + "?next=/admin/proposals/proposal/")
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next=%2Fadmin%2Fproposals%2Fproposal%2F"


def test_a_wrong_code_is_refused_and_announced_and_a_code_works_once(client):
    member = CommitteeMemberFactory()
    device = totp_device(member)
    password_login(client, member)
    response = client.post(VERIFY, {"code": "12345"})
    assert response.status_code == 200
    assert "Type the 6 digits your app shows, or one of your 10-digit backup codes." in text(response)
    code = code_for(device)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.post(reverse("logout"))
    password_login(client, member)
    response = client.post(VERIFY, {"code": code})  # the same code again: refused
    assert response.status_code == 200 and "This code is not right" in text(response)
    assert client.get(reverse("home")).url.startswith(VERIFY)


def test_wrong_codes_make_the_next_try_wait(client):
    member = CommitteeMemberFactory()
    device = totp_device(member)
    password_login(client, member)
    for _ in range(3):
        client.post(VERIFY, {"code": "000000"})
    # The third wrong code asks for 4 seconds: even the right code is refused until then.
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 200 and "Too many wrong codes. Wait" in text(response)
    assert client.get(reverse("home")).url.startswith(VERIFY)


def test_a_backup_code_works_once(client):
    member = CommitteeMemberFactory()
    totp_device(member)
    codes = two_factor.backup_codes_replace(user=member)
    password_login(client, member)
    response = client.post(VERIFY, {"code": f"{codes[0][:5]} {codes[0][5:]}"}, follow=True)
    assert response.status_code == 200
    assert "You used a backup code: 9 are left." in text(response)
    client.post(reverse("logout"))
    password_login(client, member)
    response = client.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200 and "already used" in text(response)


def test_next_must_stay_on_the_site(client):
    member = CommitteeMemberFactory()
    device = totp_device(member)
    password_login(client, member)
    response = client.post(VERIFY + "?next=https://evil.example/", {"code": code_for(device)})
    assert response.status_code == 302 and response.url == reverse("home")


def test_log_out_and_the_language_switcher_stay_open(client):
    member = CommitteeMemberFactory()
    password_login(client, member)
    response = client.post(reverse("set_language"), {"language": "km", "next": SETUP})
    assert response.status_code == 302 and response.url == SETUP
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).url.startswith(reverse("login"))


def test_an_htmx_request_of_an_unverified_session_loads_the_code_page(client):
    member = CommitteeMemberFactory()
    totp_device(member)
    force_login_without_two_factor(client, member)
    response = client.get(reverse("proposals:proposal-list"), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == VERIFY


def test_a_session_verified_by_someone_elses_device_is_not_verified(client):
    member, other = CommitteeMemberFactory(), CommitteeMemberFactory()
    totp_device(member)
    force_login_without_two_factor(client, member)
    session = client.session
    session["otp_device_id"] = totp_device(other).persistent_id
    session.save()
    assert client.get(reverse("admin:index")).url.startswith(VERIFY)


# --- grantee staff may choose ---------------------------------------------------------------


def test_grantee_staff_turn_it_on_then_every_login_asks_then_they_turn_it_off(client):
    staff = StaffFactory()
    password_login(client, staff)
    secret = secret_on(text(client.get(SETUP)))
    assert client.post(SETUP, {"code": code_from_secret(secret)}).status_code == 302
    device = TOTPDevice.objects.get(user=staff)
    page = text(client.get(reverse("two-factor-manage")))
    assert "Two-step login is on." in page and reverse("two-factor-disable") in page
    client.post(reverse("logout"))

    response = password_login(client, staff)
    assert client.get(response.url).url.startswith(VERIFY)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302

    response = client.post(reverse("two-factor-disable"), {"code": "000000"})
    assert response.status_code == 200 and "This code is not right" in text(response)
    device.throttle_reset()
    response = client.post(reverse("two-factor-disable"), {"code": code_for(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    client.post(reverse("logout"))
    response = password_login(client, staff)
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize("role", ROLES_THAT_MUST)
def test_roles_that_must_cannot_turn_it_off(client, role):
    user = ROLES_THAT_MUST[role]()
    client.force_login(user)  # verified (tests/conftest.py)
    page = text(client.get(reverse("two-factor-manage")))
    assert "cannot be turned off" in page and reverse("two-factor-disable") not in page
    response = client.post(reverse("two-factor-disable"), {"code": totp_code(user)})
    assert response.status_code == 302 and response.url == reverse("two-factor-manage")
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_new_backup_codes_replace_the_old_ones(client):
    member = CommitteeMemberFactory()
    client.force_login(member)
    old = two_factor.backup_codes_replace(user=member)
    page = text(client.get(BACKUP))
    assert "You have 10 unused backup codes." in page
    response = client.post(BACKUP)
    assert response.status_code == 302
    shown = re.findall(r"<li>(\d{5} \d{5})</li>", text(client.get(response.url)))
    assert len(shown) == 10 and not set(old) & {s.replace(" ", "") for s in shown}
    assert not StaticToken.objects.filter(token__in=old).exists()


def test_codes_typed_with_khmer_digits_or_spaces():
    assert two_factor._digits("១២៣ ៤៥៦") == "123456"
    assert two_factor._digits("12345-67890") == "1234567890"
    assert two_factor._digits("12a456") == ""


def test_force_login_in_tests_passes_two_step_login(client):
    """The mechanism of tests/conftest.py: force_login of someone who must use two-step login
    gives a verified session; force_login_without_two_factor one that still owes its code."""
    member = CommitteeMemberFactory()
    client.force_login(member)
    assert client.get(reverse("admin:index")).status_code == 200
    client.logout()
    force_login_without_two_factor(client, member)
    assert client.get(reverse("admin:index")).url.startswith(VERIFY)
    assert User.objects.get(pk=member.pk).role == User.Role.COMMITTEE_MEMBER
