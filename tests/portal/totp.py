"""RFC 6238 codes computed here, independently of django-otp, from the secret as the set-up page shows it."""
import base64
import hashlib
import hmac
import struct
import time


def totp_code(secret: str, *, steps_ahead: int = 0, at: float | None = None) -> str:
    """The six-digit code of `secret` (base32, spaces allowed) for the 30-second step `steps_ahead` after now."""
    key = base64.b32decode(secret.replace(" ", "").upper())
    counter = int((time.time() if at is None else at) // 30) + steps_ahead
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def device_secret(device) -> str:
    return base64.b32encode(device.bin_key).decode()
