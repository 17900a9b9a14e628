"""Platform settings, read once per container from the function's environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """What every function of the application knows about its deployment.

    Values come from the environment that template.yaml gives each function
    (Globals.Function.Environment); the local stack sets the same variables.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    stage: str = "dev"
    table_name: str = "riveredge"
    event_bus_name: str = "riveredge"
    signing_key_id: str = ""
    cursor_secret_arn: str = ""
    token_issuer: str = "https://riveredge.local"
    token_audience: str = "riveredge-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    mail_from: str = "no-reply@riveredge.local"
    files_bucket: str = ""
    mail_bucket: str = ""
    exports_bucket: str = ""
    backups_bucket: str = ""
    onboarding_state_machine_arn: str = ""
    max_body_bytes: int = 1_048_576


@lru_cache(maxsize=1)
def get_settings() -> PlatformSettings:
    """The settings of this container, parsed once."""
    return PlatformSettings()
