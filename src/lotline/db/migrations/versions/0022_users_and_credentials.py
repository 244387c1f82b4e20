"""Users, roles, API tokens and web sessions.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

from lotline.db.migrations import run_sql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("core/0022_users_and_credentials.sql")


def downgrade() -> None:
    op.execute("DROP TABLE web_sessions, api_tokens, user_roles, users")
