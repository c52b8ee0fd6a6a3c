"""Alembic environment: recur passes its own connection (with its SQLite pragmas and BEGIN IMMEDIATE)."""

from alembic import context

from db.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
