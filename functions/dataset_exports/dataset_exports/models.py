"""What the export queue carries: which export job of which dataset to run (the tenant is a message attribute)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


class ExportMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_id: Id
    export_id: Id
