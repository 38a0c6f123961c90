"""Alembic environment: the URL comes from the caller (api.db.migrate), never from a file."""

from alembic import context

from api.db.models import Base
from api.db.session import engine_for

url = context.config.attributes["url"]

with engine_for(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
    )
    with context.begin_transaction():
        context.run_migrations()
