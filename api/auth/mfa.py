"""TOTP second factor: secrets sealed at rest, codes matched by time step so none works twice, recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp

from persistence.encryption import Keyring

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10


TOTP_PURPOSE = "totp"


class TotpVault:
    """Seal TOTP secrets at rest with the installation's keyring (``persistence.encryption``)."""

    def __init__(self, *, keyring: Keyring) -> None:
        self._keyring = keyring

    def seal(self, totp_secret: str) -> bytes:
        return self._keyring.seal(totp_secret.encode(), purpose=TOTP_PURPOSE)

    def open(self, sealed: bytes) -> str:
        return self._keyring.open(sealed, purpose=TOTP_PURPOSE).decode()


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str = "fieldhub") -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, *, after_step: int, now: float | None = None) -> int | None:
    """The time step whose code equals ``code``, if it is later than ``after_step``.

    One step of clock drift either way is accepted; a step at or before ``after_step`` (already
    used) is refused, which makes every code single-use.
    """
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if step > after_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k3f9-2m8q-x7``: 50 random bits each, shown once."""
    alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def recovery_digest(code: str) -> bytes:
    """Hash of a recovery code, ignoring case, spaces and dashes."""
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).digest()
