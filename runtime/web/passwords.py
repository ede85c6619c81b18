"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; never raises for a bad or missing hash."""
    if not stored:
        _hasher.hash(password)  # spend the same time, so timing does not reveal accounts
        return False
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return bool(_hasher.check_needs_rehash(stored))


def problems(password: str, login: str = "") -> list[str]:
    """What is wrong with a new password (zh messages keyed for i18n later)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"至少 {MIN_LENGTH} 个字符")
    kinds = sum(
        bool(any(test(c) for c in password)) for test in (str.islower, str.isupper, str.isdigit)
    )
    kinds += any(not c.isalnum() for c in password)
    if kinds < 3:
        found.append("至少包含大写字母、小写字母、数字、符号中的三类")
    if login and login.lower() in password.lower():
        found.append("不能包含账号")
    return found
