"""Two-step login in tests: the code a person's authenticator app shows now, and sessions marked
verified the way django_otp.login marks them (see tests/conftest.py for when that happens by
itself)."""

from __future__ import annotations

import time
from base64 import b32decode

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ccop.accounts.two_factor import TOTP_DEVICE_NAME


def totp_device(user) -> TOTPDevice:
    """The person's confirmed authenticator (the newest), made when missing."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
    return device


def code_for(device: TOTPDevice) -> str:
    """The code the app shows now — or, when the portal already took that one (a code works
    once), the next one, which the portal accepts too (one step of clock drift)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    while True:
        now = time.time()
        totp.time = now
        for offset in range(device.tolerance + 1):
            totp.drift = device.drift + offset
            if totp.t() > device.last_t:
                return f"{totp.token():0{device.digits}d}"
        time.sleep(device.step - (now - device.t0) % device.step + 0.1)


def code_from_secret(secret: str) -> str:
    """The code an authenticator app shows now for a secret as the set-up page writes it (base32
    in groups of four)."""
    return f"{TOTP(b32decode(secret.replace(' ', ''))).token():06d}"


def totp_code(user) -> str:
    """The code of the person's confirmed authenticator (made when missing)."""
    return code_for(totp_device(user))


def mark_session_verified(client, user) -> TOTPDevice:
    """What django_otp.login does after a right code: the device's id in the session. Gives the
    person a confirmed authenticator first when they have none."""
    device = totp_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
