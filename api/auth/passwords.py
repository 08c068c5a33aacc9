"""Password hashing with argon2id at OWASP's parameters, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.errors import AppError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the account does not exist, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("fieldhub-dummy-password")

MIN_LENGTH = 10
MAX_LENGTH = 256


def check_policy(password: str) -> None:
    """Raise ``weak_password`` unless ``password`` is 10 to 256 characters and not all one character."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH or len(set(password)) < 3:
        raise AppError(
            "weak_password",
            f"A password needs {MIN_LENGTH} to {MAX_LENGTH} characters and some variety.",
            status_code=422,
        )


async def hash_password(password: str) -> str:
    """argon2id hash of ``password`` (runs in a worker thread: ~50 ms of CPU)."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash, spends the same time and says no."""
    return await asyncio.to_thread(_verify, stored, password[:MAX_LENGTH])
