"""Human review through a Step Functions task token, written once for what a person approves or rejects
(refunds: orders.logic.refunds; listings: orders.logic.listings).

    item written (PENDING_REVIEW) ──▶ start(): the workflow's execution, named by the item's id
        review task: stores $$.Task.Token on the item and waits (TimeoutSeconds = the review deadline)
        ├─ a reviewer decides ─▶ decide(): the decision is recorded first (conditional write), then the
        │                        execution is resumed with the token (SendTaskSuccess)
        ├─ the deadline passes ─▶ record_timeout(): the configured action, unless a decision is recorded
        └─ a step breaks ──────▶ mark_failed(): the item closed FAILED with its cause, visibly

A subject (a ``Review`` subclass) says how its items are read and written, who may not review them and which
errors it answers with; the checks and their order, the retries on a concurrent writer, the resume, the
timeout and failure steps, their logs and metrics are here. Every write is conditional on the item's status
and version, so a decision is taken once: a second one (or one racing the timeout) finds the item decided.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from orders import errors
from orders.dal.workflow import Resume
from orders.logic.retry import retrying
from orders.models.common import utcnow
from orders.models.workflow import SYSTEM_TIMEOUT, Decision, StepError, StepTask
from orders.observability import logger, metrics

if TYPE_CHECKING:
    from orders.dal.workflow import ReviewWorkflow

MAX_CAUSE = 1000  # characters of a failure cause kept on the item


class Reviewed(Protocol):
    """What a reviewed item (Refund, Listing) carries."""

    @property
    def status(self) -> StrEnum: ...
    @property
    def decided_by(self) -> str | None: ...
    @property
    def review_due_at(self) -> datetime | None: ...
    @property
    def task_token(self) -> str | None: ...
    @property
    def is_open(self) -> bool: ...
    @property
    def in_review(self) -> bool: ...


@dataclass(frozen=True)
class ReviewErrors:
    """The subject's own errors (their codes are the API's) for a decision that cannot be taken."""

    already_decided: type[errors.DomainError]
    expired: type[errors.DomainError]
    not_open: type[errors.DomainError]  # in review, but the workflow has not stored its token yet


Item = TypeVar("Item", bound=Reviewed)
State = TypeVar("State")  # what a subject reads in one go: the item, or the item and what it changes with it

Step = Callable[[StepTask], dict[str, Any]]


class Review(ABC, Generic[State, Item]):
    """One kind of reviewed item: its subclass reads and writes it; the workflow's steps are the methods here."""

    noun: str  # "refund": log messages, the log key "<noun>_id"
    metric_prefix: str  # "Refunds": <prefix>Approved / Rejected / Failed
    timeout_metric: str
    refusals: ReviewErrors

    # --- what a subject provides ------------------------------------------------------------------
    @abstractmethod
    def workflow(self) -> ReviewWorkflow: ...

    @abstractmethod
    def load(self, item_id: str) -> State:
        """The item as stored now (strongly consistent); its NotFound error when there is none."""

    @abstractmethod
    def item(self, state: State) -> Item: ...

    @abstractmethod
    def record(self, state: State, decision: Decision, *, actor: str, note: str | None, timed_out: bool) -> Item:
        """Write the decision, conditional on the item as read; the item after it."""

    @abstractmethod
    def close_failed(self, state: State, cause: str) -> Item:
        """Write the open item FAILED with ``cause``, conditional on the item as read."""

    @abstractmethod
    def timeout_action(self) -> Decision: ...

    @abstractmethod
    def approved(self, item: Item) -> bool:
        """Whether the item's decision is (or came from) an approval."""

    @abstractmethod
    def log_keys(self, item: Item) -> dict[str, str]: ...

    def check_reviewer(self, state: State, *, reviewer_id: str, reviewer_merchant: str | None) -> None:
        """Raise when this reviewer may not decide this item (their own order, their own shop)."""

    def not_resumed(self, item_id: str, outcome: Resume) -> None:
        """The decision is recorded but no execution took it (``outcome``); by default the timeout step
        reads the recorded decision back, so it stands."""
        logger.warning(f"{self.noun} decided but the workflow was not waiting", resume=outcome.value)

    # --- the review, the same for every subject -------------------------------------------------------
    def start(self, item_id: str, payload: dict[str, Any]) -> bool:
        """Start the item's workflow; an item whose workflow cannot start is closed FAILED (never a silent
        orphan) and the error raised. False when the execution already exists."""
        try:
            return self.workflow().start(item_id, payload)
        except Exception as exc:
            logger.exception(f"{self.noun} workflow did not start")
            self.mark_failed(item_id, cause=f"WorkflowStartFailed: {exc}")
            raise

    def decide(
        self, item_id: str, *, reviewer_id: str, decision: Decision, note: str | None, reviewer_merchant: str | None
    ) -> Item:
        """A reviewer's decision: recorded first (conditional write), then the workflow resumes."""

        def attempt() -> tuple[Item, str]:
            state = self.load(item_id)
            self.check_reviewer(state, reviewer_id=reviewer_id, reviewer_merchant=reviewer_merchant)
            item = self.item(state)
            ident = {f"{self.noun}_id": item_id}
            if not item.in_review:
                if item.decided_by == SYSTEM_TIMEOUT:
                    raise self.refusals.expired(**ident, status=item.status.value)
                raise self.refusals.already_decided(**ident, status=item.status.value)
            if item.review_due_at is not None and utcnow() >= item.review_due_at:
                raise self.refusals.expired(**ident)
            if item.task_token is None:
                raise self.refusals.not_open(**ident)
            return self.record(state, decision, actor=f"reviewer:{reviewer_id}", note=note, timed_out=False), (
                item.task_token
            )

        decided, token = retrying(attempt)
        logger.append_keys(**self.log_keys(decided))
        outcome = "approve" if self.approved(decided) else "reject"
        resumed = self.workflow().resume(token, {"decision": outcome})
        if resumed is not Resume.RESUMED:
            self.not_resumed(item_id, resumed)
        metrics.add_metric(
            name=f"{self.metric_prefix}{'Approved' if outcome == 'approve' else 'Rejected'}", unit="Count", value=1
        )
        return decided

    def record_timeout(self, item_id: str) -> dict[str, str]:
        """The review deadline passed: apply the configured action, unless a decision is already recorded."""
        action = self.timeout_action()

        def attempt() -> Item:
            state = self.load(item_id)
            if not self.item(state).in_review:
                return self.item(state)
            decided = self.record(state, action, actor=SYSTEM_TIMEOUT, note="review deadline passed", timed_out=True)
            metrics.add_metric(name=self.timeout_metric, unit="Count", value=1)
            return decided

        return {"decision": "approve" if self.approved(retrying(attempt)) else "reject"}

    def mark_failed(self, item_id: str, *, cause: str) -> Item | None:
        """Close the item, if still open, as FAILED with its cause."""
        cause = cause[:MAX_CAUSE]

        def attempt() -> Item | None:
            state = self.load(item_id)
            return self.close_failed(state, cause) if self.item(state).is_open else None

        failed = retrying(attempt)
        extra = {f"{self.noun}_id": item_id, "failure_cause": cause}
        if failed is None:  # already decided (e.g. a late step after the decision): nothing for ops to mend
            logger.warning(f"{self.noun} workflow failed after the {self.noun} was closed", extra=extra)
            return None
        logger.error(f"{self.noun} failed", extra=extra)
        metrics.add_metric(name=f"{self.metric_prefix}Failed", unit="Count", value=1)
        return failed

    # --- the worker function's steps (functions/<noun>_worker) -----------------------------------------
    def steps(self) -> dict[str, Step]:
        """The steps every review workflow runs in its worker: ``record_timeout`` and ``mark_failed``."""

        def timed_out(task: StepTask) -> dict[str, Any]:
            return self.record_timeout(task.item_id)

        def failed(task: StepTask) -> dict[str, Any]:
            cause = (task.error or StepError()).describe()
            closed = self.mark_failed(task.item_id, cause=cause)
            return {"status": closed.status.value if closed else "UNCHANGED", "failure_cause": cause}

        return {"record_timeout": timed_out, "mark_failed": failed}
