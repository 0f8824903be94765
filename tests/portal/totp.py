"""RFC 6238 codes computed here, independently of django-otp, from the secret as the set-up page shows it."""
import base64
import hashlib
import hmac
import struct
import time
from datetime import timedelta

from django_otp.plugins.otp_static.models import StaticDevice

from portal.models import TotpAuthenticator


def current_step() -> int:
    return int(time.time() // 30)


def totp_code(secret: str, *, steps_ahead: int = 0, step: int | None = None) -> str:
    """The six-digit code of `secret` (base32, spaces allowed) for a 30-second step: `step`, or the one
    `steps_ahead` after now."""
    key = base64.b32decode(secret.replace(" ", "").upper())
    counter = step if step is not None else current_step() + steps_ahead
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def next_code(device) -> str:
    """A code the device accepts now: of a later step than the last one it accepted (a code is never accepted
    twice), and within its tolerance of one step, whatever step boundary passed since."""
    device.refresh_from_db()
    return totp_code(device_secret(device), step=max(device.last_t + 1, current_step()))


def device_secret(device) -> str:
    return base64.b32encode(device.bin_key).decode()


def throttle_passed(user) -> None:
    """As if the wait django-otp imposes after a wrong code (a second, doubling with each) had passed: its last
    failure moved an hour back on each of the user's devices. The count stays, so the next wait still doubles."""
    for model in (TotpAuthenticator, StaticDevice):
        for device in model.objects.filter(user=user, throttling_failure_timestamp__isnull=False):
            device.throttling_failure_timestamp -= timedelta(hours=1)
            device.save(update_fields=["throttling_failure_timestamp"])
