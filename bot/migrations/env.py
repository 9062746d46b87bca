"""Alembic's environment: migrates on the connection bot.migrations hands it, inside its locked transaction."""

from alembic import context

from bot.migrations import CONTEXT_OPTIONS
from bot.schema import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata, **CONTEXT_OPTIONS)
with context.begin_transaction():
    context.run_migrations()
