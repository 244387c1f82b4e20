"""Alembic environment: runs online against the engine handed in by lotline.db.migrations."""

from alembic import context

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    # One transaction for the whole upgrade: a failed revision leaves the database as it was.
    context.configure(connection=connection, transactional_ddl=True, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
