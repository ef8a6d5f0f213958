"""Shapes of the review workflows (refunds, listings): the decision, and what they hand to their worker functions."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel

# The actor of what the review deadline decided (the workflow's timeout step).
SYSTEM_TIMEOUT = "system:timeout"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class StepError(BaseModel):
    """What a Catch puts at ResultPath: the error name and its cause (a Lambda error payload as JSON; null
    for some service integrations' errors, which must still reach mark_failed)."""

    Error: str | None = "Unknown"
    Cause: str | None = ""

    def describe(self) -> str:
        cause = self.Cause or ""
        try:
            message = json.loads(cause).get("errorMessage")
        except (ValueError, AttributeError):
            message = None
        return f"{self.Error or 'Unknown'}: {message or cause}".strip()


class StepTask(BaseModel):
    """What a workflow's Lambda task sends its worker: the step (``action``), the item's id (in the field
    ``id_field`` names, as the state machine passes it) and, on the failure path, the caught error."""

    id_field: ClassVar[str]

    action: str
    error: StepError | None = None

    @property
    def item_id(self) -> str:
        return str(getattr(self, self.id_field))
