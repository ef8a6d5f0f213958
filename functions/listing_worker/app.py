"""listing-worker: the Lambda steps of the listing review workflow (statemachines/listing.asl.json): the ones
every review workflow has (orders.logic.review). ``ConcurrentModification`` is retried by the state machine,
anything else is caught → ``mark_failed`` (orders.steps)."""

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
