"""Alembic environment: runs on the connection that `storage.db.Database.migrate` hands in."""

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` on the command line, not supported
    raise SystemExit("Run migrations with `copbot migrate`, which connects for you.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
