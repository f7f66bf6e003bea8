"""Alembic environment: the URL comes from the Config that db.migrate builds."""

from __future__ import annotations

from alembic import context

from db.database import make_engine
from db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("no database URL: run migrations through `hotline db upgrade`")

engine = make_engine(url)
try:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=True)  # SQLite alters tables by copying them
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
