"""Alembic, driven from code: `tsunagu db upgrade` and `tsunagu serve` both call upgrade()."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

from api.settings import get_settings


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "api.db:migrations")
    config.attributes["url"] = url or get_settings().database_url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply the migrations, then mirror the municipality directories into bodies."""
    from api.db.session import engine_for
    from api.services.directory import sync_bodies

    url = url or get_settings().database_url
    command.upgrade(alembic_config(url), revision)
    with Session(engine_for(url)) as db:
        sync_bodies(db)
        db.commit()
