"""Alembic environment: Picker passes its own engine in ``config.attributes["engine"]``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from picker.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Picker's migrations run online only: use `picker db upgrade`.")
run_migrations_online()
