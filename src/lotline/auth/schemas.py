"""Input schemas for users, roles, tokens, sign-in and signatures."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from lotline.types import Input, Name, Timestamp
from lotline.vocab import Meaning, Role

UserName = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserIn(Input):
    name: UserName
    full_name: Name
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] | None = None
    roles: Annotated[list[Role], Field(min_length=1)]
    password: Password | None = None


class RolesIn(Input):
    roles: Annotated[list[Role], Field(min_length=1)]


class PasswordIn(Input):
    password: Password


class TokenIn(Input):
    user: UserName
    name: Name
    expires_at: Timestamp | None = None


class SignInIn(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64)]
    password: Password


class SignatureIn(Input):
    """An electronic signature: the signer's own password again and what the signature means."""

    password: Password
    meaning: Meaning
