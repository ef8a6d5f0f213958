"""The human review (orders.logic.review) on its own: an in-memory subject and workflow, no AWS.

Refunds and listings run the same review code; their integration tests (test_refunds.py, test_listings.py)
prove it end to end through Step Functions. These pin the order of what a decision does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest

from orders import errors
from orders.dal.workflow import Resume, ReviewWorkflow
from orders.logic.retry import ATTEMPTS, retrying
from orders.logic.review import Review, ReviewErrors
from orders.models.common import utcnow
from orders.models.workflow import SYSTEM_TIMEOUT, Decision, StepError, StepTask
from orders.observability import metrics


class Status(StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Thing:
    thing_id: str
    status: Status = Status.PENDING_REVIEW
    owner: str = "owner-1"
    decided_by: str | None = None
    review_due_at: datetime | None = None
    task_token: str | None = "token-1"
    failure_cause: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is Status.PENDING_REVIEW

    @property
    def in_review(self) -> bool:
        return self.status is Status.PENDING_REVIEW


class FakeWorkflow(ReviewWorkflow):
    def __init__(self, resume_outcome: Resume = Resume.RESUMED, start_error: Exception | None = None) -> None:
        super().__init__("arn:aws:states:us-east-1:123456789012:stateMachine:things")
        self.resume_outcome, self.start_error = resume_outcome, start_error
        self.started: list[str] = []
        self.resumed: list[tuple[str, dict[str, Any]]] = []

    def start(self, item_id: str, payload: dict[str, Any]) -> bool:
        if self.start_error:
            raise self.start_error
        self.started.append(item_id)
        return True

    def resume(self, task_token: str, output: dict[str, Any]) -> Resume:
        self.resumed.append((task_token, output))
        return self.resume_outcome


class Expired(errors.Conflict):
    code = "THING_REVIEW_EXPIRED"


class Decided(errors.Conflict):
    code = "THING_ALREADY_DECIDED"


class NotOpen(errors.Conflict):
    code = "THING_REVIEW_NOT_OPEN"


class OwnThing(errors.Forbidden):
    code = "OWN_THING"


@dataclass
class ThingReview(Review[Thing, Thing]):
    flow: FakeWorkflow = field(default_factory=FakeWorkflow)
    stored: dict[str, Thing] = field(default_factory=dict)
    conflicts: int = 0  # writes refused by a "concurrent writer" before one lands
    writes: list[Thing] = field(default_factory=list)

    noun, metric_prefix, timeout_metric = "thing", "Things", "ThingReviewsTimedOut"
    refusals = ReviewErrors(already_decided=Decided, expired=Expired, not_open=NotOpen)

    def workflow(self) -> ReviewWorkflow:
        return self.flow

    def load(self, item_id: str) -> Thing:
        return self.stored[item_id]

    def item(self, state: Thing) -> Thing:
        return state

    def _write(self, after: Thing) -> Thing:
        if self.conflicts:
            self.conflicts -= 1
            raise errors.ConcurrentModification()
        self.stored[after.thing_id] = after
        self.writes.append(after)
        return after

    def record(self, state: Thing, decision: Decision, *, actor: str, note: str | None, timed_out: bool) -> Thing:
        status = Status.APPROVED if decision is Decision.APPROVE else Status.REJECTED
        return self._write(replace(state, status=status, decided_by=actor, task_token=None))

    def close_failed(self, state: Thing, cause: str) -> Thing:
        return self._write(replace(state, status=Status.FAILED, failure_cause=cause, task_token=None))

    def timeout_action(self) -> Decision:
        return Decision.REJECT

    def approved(self, item: Thing) -> bool:
        return item.status is Status.APPROVED

    def log_keys(self, item: Thing) -> dict[str, str]:
        return {"thing_id": item.thing_id}

    def check_reviewer(self, state: Thing, *, reviewer_id: str, reviewer_merchant: str | None) -> None:
        if state.owner == reviewer_id:
            raise OwnThing(thing_id=state.thing_id)


class ThingTask(StepTask):
    id_field = "thing_id"
    thing_id: str


def review_of(*things: Thing, **kwargs: Any) -> ThingReview:
    return ThingReview(stored={thing.thing_id: thing for thing in things}, **kwargs)


def decide(review: ThingReview, decision: Decision = Decision.APPROVE, reviewer: str = "rev-1") -> Thing:
    return review.decide("t1", reviewer_id=reviewer, decision=decision, note=None, reviewer_merchant=None)


def test_a_decision_is_recorded_then_resumes_the_workflow_with_the_token_and_the_outcome() -> None:
    # Given a thing in review whose workflow waits on token-1
    review = review_of(Thing("t1"))
    # When a reviewer rejects it
    decided = decide(review, Decision.REJECT)
    # Then it is written REJECTED by that reviewer, and the workflow resumed with "reject"
    assert (decided.status, decided.decided_by) == (Status.REJECTED, "reviewer:rev-1")
    assert review.stored["t1"] == decided
    assert review.flow.resumed == [("token-1", {"decision": "reject"})]


@pytest.mark.parametrize(
    ("thing", "refused"),
    [
        (Thing("t1", owner="rev-1"), OwnThing),
        (Thing("t1", status=Status.APPROVED, decided_by="reviewer:other"), Decided),
        (Thing("t1", status=Status.REJECTED, decided_by=SYSTEM_TIMEOUT), Expired),
        (Thing("t1", review_due_at=utcnow() - timedelta(seconds=1)), Expired),
        (Thing("t1", task_token=None), NotOpen),
    ],
)
def test_a_decision_that_cannot_be_taken_is_refused_with_the_subjects_error_and_nothing_written(
    thing: Thing, refused: type[errors.DomainError]
) -> None:
    # Given a thing the reviewer may not decide (their own, decided, expired, workflow not waiting yet)
    review = review_of(thing)
    # When they decide, Then the subject's own error says why; nothing is written or resumed
    with pytest.raises(refused):
        decide(review)
    assert review.writes == [] and review.flow.resumed == []


def test_a_decision_losing_a_race_is_retried_on_what_is_stored_then() -> None:
    # Given a thing whose first write is refused by a concurrent writer
    review = review_of(Thing("t1"), conflicts=1)
    # When a reviewer approves it, Then the retry lands and the workflow resumes once
    assert decide(review).status is Status.APPROVED
    assert len(review.flow.resumed) == 1


def test_a_decision_the_workflow_no_longer_waits_for_stands_by_default() -> None:
    # Given a workflow that took its timeout path meanwhile
    review = review_of(Thing("t1"), flow=FakeWorkflow(resume_outcome=Resume.TIMED_OUT))
    # When a reviewer approves, Then the recorded approval stands (the timeout step reads it back)
    assert decide(review).status is Status.APPROVED
    assert review.record_timeout("t1") == {"decision": "approve"}
    assert [write.status for write in review.writes] == [Status.APPROVED]


def test_the_timeout_applies_the_configured_action_only_to_a_thing_still_in_review() -> None:
    # Given one thing in review and one approved
    review = review_of(Thing("t1"), Thing("t2", status=Status.APPROVED))
    # When the deadline passes for both
    outcomes = [review.record_timeout("t1"), review.record_timeout("t2")]
    # Then the one in review is rejected by system:timeout, the approved one keeps its decision
    assert outcomes == [{"decision": "reject"}, {"decision": "approve"}]
    assert [(write.thing_id, write.decided_by) for write in review.writes] == [("t1", SYSTEM_TIMEOUT)]


def test_the_failure_step_closes_an_open_thing_with_the_caught_error_and_leaves_a_closed_one() -> None:
    # Given an open thing and a decided one, and the workflow's failure step
    review = review_of(Thing("t1"), Thing("t2", status=Status.REJECTED))
    failed = review.steps()["mark_failed"]
    error = StepError(Error="KeyError", Cause='{"errorMessage": "boom"}')
    # When both fail
    results = [failed(ThingTask(action="mark_failed", thing_id=name, error=error)) for name in ("t1", "t2")]
    # Then the open one is FAILED with the error's description; the decided one is unchanged
    assert results == [
        {"status": "FAILED", "failure_cause": "KeyError: boom"},
        {"status": "UNCHANGED", "failure_cause": "KeyError: boom"},
    ]
    assert review.stored["t2"].status is Status.REJECTED


def test_only_a_thing_the_failure_closes_counts_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an open thing and a decided one, and the metrics the failure step adds
    review = review_of(Thing("t1"), Thing("t2", status=Status.APPROVED))
    counted: list[str] = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, unit, value: counted.append(name))
    # When the workflow of each fails
    for name in ("t1", "t2"):
        review.mark_failed(name, cause="KeyError: boom")
    # Then only the one it closed is counted (an alarm watches the count)
    assert counted == ["ThingsFailed"]


def test_a_workflow_that_cannot_start_leaves_the_thing_failed_and_the_error_raised() -> None:
    # Given a workflow that refuses to start
    review = review_of(Thing("t1"), flow=FakeWorkflow(start_error=RuntimeError("no state machine")))
    # When the thing's review is started, Then the error is raised and the thing is FAILED with it
    with pytest.raises(RuntimeError):
        review.start("t1", {"thing_id": "t1"})
    assert review.stored["t1"].failure_cause == "WorkflowStartFailed: no state machine"


def test_retrying_gives_up_after_its_attempts_with_the_last_conflict() -> None:
    # Given an attempt that always loses to a concurrent writer
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise errors.ConcurrentModification()

    # When it is retried, Then the conflict is raised after ATTEMPTS tries
    with pytest.raises(errors.ConcurrentModification):
        retrying(attempt)
    assert len(calls) == ATTEMPTS


def test_a_caught_error_without_a_cause_still_reaches_the_failure_step() -> None:
    # Given a Catch result whose Cause is null (as some service integrations' errors have)
    task = ThingTask.model_validate({"action": "mark_failed", "thing_id": "t1", "error": {"Error": "X", "Cause": None}})
    review = review_of(Thing("t1"))
    # When the failure step runs, Then the thing is FAILED with the error's name
    assert review.steps()["mark_failed"](task) == {"status": "FAILED", "failure_cause": "X:"}
