"""Alembic environment of the demo app: the database URL comes from DATABASE_URL or its secret file."""

import os

from alembic import context
from sqlalchemy import create_engine, pool


def database_url():
    path = os.environ.get("DATABASE_URL_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            url = handle.read().strip()
    else:
        url = os.environ["DATABASE_URL"]
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


engine = create_engine(database_url(), poolclass=pool.NullPool)
with engine.connect() as connection:
    # One transaction for the whole upgrade: a failing revision leaves the schema as it was.
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
