"""Alembic environment: always called programmatically by ``storage.migrate``."""

from __future__ import annotations

from alembic import context

import storage.models

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=storage.models.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
