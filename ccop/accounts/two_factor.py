"""Two-factor login: who must use it, setting up an authenticator app, checking a code after the
password, backup codes, turning it off. Built on django-otp's TOTP and static devices.

Who: committee members, facilitators, superusers and anyone else who can open the admin
(`is_staff`) must use it (`two_factor_required`); grantee staff may turn it on and off. Once a
person has it on, every login of theirs asks for a code. A session counts as verified the way
django-otp records it (`django_otp.login`: the device's id in the session, checked by
`django_otp.middleware.OTPMiddleware` on each request); `middleware.TwoFactorRequiredMiddleware`
keeps an unverified session that needs a code out of every page but the two-factor ones.

Codes: the authenticator app shows 6 digits that change every 30 seconds (a code is accepted
once, with one step of clock drift either way); backup codes are 10 digits, each usable once,
for a lost or flat phone. Wrong codes slow further tries down (django-otp's throttling: 1, 2, 4,
8 ... seconds), on top of the password throttling of the login page (django-axes).
"""

from __future__ import annotations

import math
import secrets
import time
from base64 import b32encode

import segno
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from ccop.models import User

REQUIRED_ROLES = frozenset({User.Role.COMMITTEE_MEMBER, User.Role.FACILITATOR})
TOTP_DEVICE_NAME = "authenticator app"
BACKUP_DEVICE_NAME = "backup codes"
TOTP_DIGITS = 6
BACKUP_CODE_COUNT = 10
BACKUP_CODE_DIGITS = 10
# In the session: whether this person had two-factor login on when the session started (looked
# up once per session, so grantee staff without it cost no query per request).
SESSION_HAS_TWO_FACTOR = "ccop_two_factor_on"
# In the session: the secret of an authenticator being set up (hex), until a first code confirms it.
SESSION_PENDING_KEY = "ccop_two_factor_pending_key"


# --- who ------------------------------------------------------------------------------------


def two_factor_required(user) -> bool:
    """Committee members, facilitators, superusers and every other admin user must use it."""
    return bool(user.is_authenticated and (user.is_superuser or user.is_staff or user.role in REQUIRED_ROLES))


def may_turn_off(user) -> bool:
    return not two_factor_required(user)


def has_two_factor(user) -> bool:
    """An authenticator app is set up and confirmed."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def verification_needed(request) -> bool:
    """This logged-in session must be verified with a code before it reaches anything else."""
    user = request.user
    if two_factor_required(user):
        return True
    if SESSION_HAS_TWO_FACTOR not in request.session:
        request.session[SESSION_HAS_TWO_FACTOR] = has_two_factor(user)
    return bool(request.session[SESSION_HAS_TWO_FACTOR])


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- setting up -----------------------------------------------------------------------------


def pending_device(*, user: User, session) -> TOTPDevice:
    """The authenticator being set up, not saved: its secret is kept in the session until a
    first code confirms it, so a page reloaded on a weak connection shows the QR code already
    scanned, and looking at the page writes nothing."""
    key = session.get(SESSION_PENDING_KEY)
    if not key:
        key = session[SESSION_PENDING_KEY] = random_hex(20)
    return TOTPDevice(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=False)


def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> tuple[TOTPDevice, list[str]]:
    """Save the authenticator being set up once a first code from it is right. It replaces any
    earlier authenticator, and new backup codes replace the old ones: returns the device and the
    codes (shown once). No throttling here: whoever sees this page sees the secret itself."""
    token = _digits(code)
    if len(token) != TOTP_DIGITS:
        raise ValidationError(_("Type the 6 digits your app shows."), code="code_format")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), device.tolerance):
        raise _refusal(None, backup=False)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        # The code just typed is used: it cannot log in again (django-otp's last_t).
        device = TOTPDevice.objects.create(
            user=user,
            name=TOTP_DEVICE_NAME,
            key=device.key,
            confirmed=True,
            last_t=totp.t(),
            drift=totp.drift,
        )
        codes = backup_codes_replace(user=user)
    return device, codes


def backup_codes_replace(*, user: User) -> list[str]:
    """New backup codes; the earlier ones stop working. Returns them (shown once)."""
    codes: set[str] = set()
    while len(codes) < BACKUP_CODE_COUNT:
        codes.add(f"{secrets.randbelow(10**BACKUP_CODE_DIGITS):0{BACKUP_CODE_DIGITS}d}")
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in sorted(codes))
    return sorted(codes)


# --- after the password ---------------------------------------------------------------------


def code_check(*, user: User, code: str) -> Device:
    """The device that accepts this code: the authenticator for 6 digits, the backup codes for
    10 (a backup code is used up). Raises ValidationError for a wrong code, or while wrong codes
    have this person waiting."""
    token = _digits(code)
    if len(token) == TOTP_DIGITS:
        model = TOTPDevice
    elif len(token) == BACKUP_CODE_DIGITS:
        model = StaticDevice
    else:
        raise ValidationError(
            _("Type the 6 digits your app shows, or one of your 10-digit backup codes."), code="code_format"
        )
    throttle = None
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("-pk").first()
        verified = False
        if device is not None:
            allowed, throttle = device.verify_is_allowed()
            verified = allowed and device.verify_token(token)
    if not verified:
        raise _refusal(throttle, backup=model is StaticDevice)
    return device


def two_factor_turn_off(*, user: User, code: str) -> None:
    """Remove the authenticator and backup codes of a person whose role lets them choose; a
    current code proves the phone is theirs."""
    if not may_turn_off(user):
        raise ValidationError(_("Your role needs two-step login: it cannot be turned off."), code="required")
    code_check(user=user, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


# --- showing --------------------------------------------------------------------------------


def secret_in_groups(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in (base32), in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code: drawn here, nothing fetched, no script."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def backup_code_display(code: str) -> str:
    return f"{code[:5]} {code[5:]}"


# --- helpers --------------------------------------------------------------------------------


def _digits(code: str) -> str:
    """The code as typed on a phone: spaces and dashes allowed, Khmer and Lao digits too."""
    cleaned = "".join(str(int(c)) if c.isdecimal() else c for c in (code or "") if c not in " -\u00a0")
    return cleaned if cleaned.isascii() and cleaned.isdigit() else ""


def _refusal(throttle: dict | None, *, backup: bool) -> ValidationError:
    if throttle and throttle.get("locked_until"):
        seconds = max(1, math.ceil((throttle["locked_until"] - timezone.now()).total_seconds()))
        return ValidationError(
            ngettext(
                "Too many wrong codes. Wait %(seconds)d second, then type the code again.",
                "Too many wrong codes. Wait %(seconds)d seconds, then type the code again.",
                seconds,
            )
            % {"seconds": seconds},
            code="throttled",
        )
    if backup:
        return ValidationError(
            _("This backup code is not right, or it was already used."), code="wrong_backup_code"
        )
    return ValidationError(
        _("This code is not right. The code changes every 30 seconds: type the one your app shows now."),
        code="wrong_code",
    )
