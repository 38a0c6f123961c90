"""All of the API's settings in one place, read from TSUNAGU_* variables or a .env file."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

# The embedded default: a SQLite file in the checkout's var/ (ignored by git).
DEFAULT_SQLITE = Path(__file__).resolve().parent.parent / "var" / "tsunagu.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TSUNAGU_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = f"sqlite:///{DEFAULT_SQLITE}"
    # Staff tokens last a working day; service tokens (the bot's) a year unless told.
    token_minutes: int = 8 * 60
    service_token_days: int = 365
    # Password guessing: this many failures per username or per client in the window.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # Staff web pages (/staff): a session ends after this many idle minutes, and at the
    # latest after token_minutes. Secure cookies need HTTPS: set true in production.
    staff_idle_minutes: int = 30
    staff_cookie_secure: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
