"""Password hashing: Argon2id (argon2-cffi), minimum length, constant-cost refusal.

Passwords are never logged or echoed; only the PHC string (algorithm, parameters, salt, hash) is
stored. ``verify`` of an unknown user runs against a dummy hash so that an unknown name and a wrong
password cost the same time. The cost profile is argon2-cffi's default (RFC 9106 low-memory:
m=64 MiB, t=3, p=4); tests set a cheaper one with ``use_test_cost()`` — still Argon2id.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from lotline.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024  # Argon2 takes anything, but a 1 MB "password" is a denial of service

_hasher = PasswordHasher(type=Type.ID)
_dummy: str | None = None


def use_test_cost() -> None:
    """Cheap Argon2id parameters for test suites (hundreds of users per run)."""
    global _hasher, _dummy
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    _dummy = None


def validate(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password too short: at least {MIN_LENGTH} characters are required")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"password too long: at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    validate(password)
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; a missing hash still costs one verification."""
    global _dummy
    if stored is None:
        if _dummy is None:
            _dummy = _hasher.hash("not a password of anyone")
        stored = _dummy
        password = password + "\0never"
    try:
        return _hasher.verify(stored, password[:MAX_LENGTH + 1])
    except (VerificationError, InvalidHashError):
        return False
