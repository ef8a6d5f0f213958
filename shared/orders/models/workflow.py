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
    """What a Catch puts at ResultPath: the error name and its cause (a Lambda error payload as JSON)."""

    Error: str = "Unknown"
    Cause: str = ""

    def describe(self) -> str:
        try:
            message = json.loads(self.Cause).get("errorMessage")
        except (ValueError, AttributeError):
            message = None
        return f"{self.Error}: {message or self.Cause}".strip()


class StepTask(BaseModel):
    """What a workflow's Lambda task sends its worker: the step (``action``), the item's id (in the field
    ``id_field`` names, as the state machine passes it) and, on the failure path, the caught error."""

    id_field: ClassVar[str]

    action: str
    error: StepError | None = None

    @property
    def item_id(self) -> str:
        return str(getattr(self, self.id_field))
