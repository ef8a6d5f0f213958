"""Shapes the review workflows (refunds, listings) hand to their worker functions."""

from __future__ import annotations

import json

from pydantic import BaseModel


class StepError(BaseModel):
    """What a Catch puts at ResultPath: the error name and its cause (a Lambda error payload as JSON)."""

    Error: str = "Unknown"
    # Null when the failure named no cause (SendTaskFailure's cause is optional): still a failure to record.
    Cause: str | None = ""

    def describe(self) -> str:
        cause = self.Cause or ""
        try:
            message = json.loads(cause).get("errorMessage")
        except (ValueError, AttributeError):
            message = None
        return f"{self.Error}: {message or cause}".strip()
