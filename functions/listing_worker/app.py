"""listing-worker: the Lambda steps of the listing review workflow (statemachines/listing.asl.json).

Exceptions are left to Lambda on purpose: their class name is the error the state machine's Retry/Catch
match (``ConcurrentModification`` is retried, anything else is caught → ``mark_failed``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from orders.logic import listings
from orders.models.workflow import StepTask
from orders.steps import step_entry


class Task(StepTask):
    id_field: ClassVar[str] = "listing_id"

    action: Literal["record_timeout", "mark_failed"]
    listing_id: str


STEPS = listings.REVIEW.steps()

lambda_handler = step_entry(Task, STEPS)
