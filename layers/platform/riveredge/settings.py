"""Platform settings, read once per container from the function's environment.

A frozen dataclass rather than pydantic-settings: the authorizer loads no
pydantic at all, and pydantic-settings alone added about 90 ms to a cold start
(docs/decisions/0005-cold-start.md). Every value has a default (what the local
stack and the tests use when a variable is absent); a value that is present is
converted by its field's type, and a malformed number fails the first read of
the settings (the container's first event) with the variable's name.
"""

from __future__ import annotations

import dataclasses
import os
from functools import lru_cache


@dataclasses.dataclass(frozen=True)
class PlatformSettings:
    """What every function of the application knows about its deployment.

    Values come from the environment that template.yaml gives each function
    (Globals.Function.Environment), by the upper-case name of the field; the
    local stack sets the same variables.
    """

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
    mail_from_name: str = "RiverEdge"  # the display name of the platform's sender
    files_bucket: str = ""
    mail_bucket: str = ""
    exports_bucket: str = ""
    backups_bucket: str = ""
    onboarding_state_machine_arn: str = ""
    dead_letter_queue_url: str = ""  # where a consumer sends the events it refuses, with the reason
    mail_queue_url: str = ""
    mail_configuration_set: str = ""
    mail_send_rate: int = 14  # messages a second: the account's SES sending quota
    mail_senders: int = 2  # the mailer's MaximumConcurrency: each sender gets rate / senders
    max_body_bytes: int = 1_048_576
    app_base_url: str = "http://127.0.0.1:3000"
    api_base_url: str = ""  # where the API is served (unsubscribe links); "": the app's origin serves /api
    websocket_endpoint: str = ""  # the WebSocket API's management endpoint (riveredge.realtime); "" : none

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> PlatformSettings:
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(field.name.upper())
            if raw is None:
                continue
            if field.type == "int":
                try:
                    values[field.name] = int(raw)
                except ValueError as error:
                    raise ValueError(f"{field.name.upper()} must be a whole number, not {raw!r}") from error
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> PlatformSettings:
    """The settings of this container, parsed once."""
    return PlatformSettings.from_environment()
