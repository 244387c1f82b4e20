"""Pages of users and API tokens for the API's listings (``lotline.db.pages`` keyset pages).

Rows are what ``auth.service`` prints (``user_dict``, ``token_row``); a page of users reads their
roles in the same statement, never one query per user.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.auth.models import ApiToken, User, UserRole
from lotline.auth.service import find_user, user_dict
from lotline.db import pages


def users_page(session: Session, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of users by name, as ``user_dict`` rows."""
    roles = (
        sa.select(sa.func.coalesce(sa.func.array_agg(UserRole.role), sa.literal([], sa.ARRAY(sa.Text))))
        .where(UserRole.user_id == User.id)
        .scalar_subquery()
    )
    page = pages.page(session, sa.select(User, roles.label("roles")), [User.name], lambda r: (r[0].name,),
                      after=after, limit=limit)
    return pages.Page([user_dict(u, r) for u, r in page.rows], page.after)


def tokens_page(session: Session, user: str | None = None, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of (token, user name) rows, oldest first (of one user with ``user``)."""
    query = sa.select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
    if user is not None:
        query = query.where(User.id == find_user(session, user).id)
    return pages.page(session, query, [ApiToken.created_at, ApiToken.id], lambda r: (r[0].created_at, r[0].id),
                      after=after, limit=limit)
