"""Shapes the review workflows (refunds, listings) hand to their worker functions."""

from __future__ import annotations

import json

from pydantic import BaseModel


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
