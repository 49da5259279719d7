"""Alembic environment. coding.storage.migrations runs it on an open connection (config.attributes
["connection"]); a developer runs it with `alembic -c coding/storage/migrations/alembic.ini
-x url=URL ...`. SQLite gets batch mode, so later revisions can alter tables there too."""

from alembic import context
from sqlalchemy import create_engine

from coding.storage.schema import Base

config = context.config
target_metadata = Base.metadata


def _configure(**options):
    context.configure(target_metadata=target_metadata, compare_type=True, **options)


def run_offline():
    url = context.get_x_argument(as_dictionary=True).get("url")
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection):
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
