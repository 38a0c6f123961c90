"""All of the API's settings in one place, read from TSUNAGU_* variables or a .env file."""

import os
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

    # --- channels (api/channels/) ---
    # Per town: TSUNAGU_LINE_CHANNEL_SECRET_<TOWN> etc. (see channel_setting). A town
    # without its secret (LINE) or auth token (Twilio) has that channel off: 404.
    line_channel_secret_atsuma: str | None = None
    line_channel_token_atsuma: str | None = None
    twilio_account_sid_atsuma: str | None = None
    twilio_auth_token_atsuma: str | None = None
    twilio_from_atsuma: str | None = None
    line_channel_secret_tomiya: str | None = None
    line_channel_token_tomiya: str | None = None
    twilio_account_sid_tomiya: str | None = None
    twilio_auth_token_tomiya: str | None = None
    twilio_from_tomiya: str | None = None
    # The URL Twilio signs is the public one (a reverse proxy changes host and scheme).
    public_base_url: str | None = None
    line_api_base: str = "https://api.line.me"
    twilio_api_base: str = "https://api.twilio.com"
    web_chat_municipalities: str = "atsuma,tomiya"  # the towns whose /chat is open
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 10.0
    # Each API process starts the worker and the outbox delivery as a child process unless
    # switched off (then run `tsunagu worker`). A lease outlives the slowest Rasa answer.
    channel_worker: bool = True
    worker_threads: int = 2
    worker_lease_seconds: float = 30.0
    worker_poll_seconds: float = 0.5
    provider_timeout_seconds: float = 10.0
    delivery_max_attempts: int = 10
    delivery_backoff_seconds: float = 2.0  # doubled on each retry, at most 5 minutes


def channel_setting(settings: Settings, name: str, municipality: str) -> str | None:
    """A per-town channel setting: the declared field, else TSUNAGU_<NAME>_<TOWN> from the
    environment (a new town needs no code change). Empty counts as unset."""
    value = getattr(settings, f"{name}_{municipality}", None)
    if value is None:
        value = os.environ.get(f"TSUNAGU_{name}_{municipality}".upper())
    return value or None


@lru_cache
def get_settings() -> Settings:
    return Settings()
