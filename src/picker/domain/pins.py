"""PIN hashing (scrypt, salted) and the badge lockout rule."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# scrypt cost: ~16 MiB and a few tens of ms per check — slow for a guesser, quick at a login.
_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"

PIN_RE = re.compile(r"[0-9]{4,8}")


class BadPin(ValueError):
    """A PIN that cannot be set (not digits, or fewer than the site's length, or over 8)."""


def validate_pin(pin: str, min_length: int = 4) -> str:
    """``pin`` if it may be set: digits only, ``min_length`` (a site's ``[login] pin_length``)
    to 8 of them."""
    if not PIN_RE.fullmatch(pin) or len(pin) < min_length:
        raise BadPin(f"a PIN is {min_length} to 8 digits")
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` for a valid PIN."""
    validate_pin(pin)
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches the stored hash; never raises on a malformed hash."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = bytes.fromhex(hash_hex)
        digest = hashlib.scrypt(
            pin.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True)
class LockoutPolicy:
    max_failed: int = 5
    lock_for: timedelta = timedelta(minutes=5)

    def after_failure(self, failed_before: int, now: datetime) -> tuple[int, datetime | None]:
        """Failed count and lock expiry after one more wrong PIN."""
        failed = failed_before + 1
        if failed >= self.max_failed:
            return 0, now + self.lock_for
        return failed, None

    @staticmethod
    def is_locked(locked_until: datetime | None, now: datetime) -> bool:
        return locked_until is not None and now < locked_until
