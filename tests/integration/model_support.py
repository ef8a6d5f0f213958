"""What the model-based tests share: their budget, hypothesis settings and the tally they print.

Each model (hypothesis ``RuleBasedStateMachine``) drives random histories through the real handlers
and checks invariants after every step. CI runs a fixed, derandomized budget; ``<PREFIX>_EXAMPLES``,
``<PREFIX>_STEPS`` and ``<PREFIX>_RANDOM`` widen it for soak runs.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test


@dataclass(frozen=True)
class Budget:
    examples: int
    steps: int
    random: bool = False

    @classmethod
    def from_env(cls, prefix: str, *, examples: int, steps: int) -> Budget:
        return cls(
            examples=int(os.environ.get(f"{prefix}_EXAMPLES") or examples),
            steps=int(os.environ.get(f"{prefix}_STEPS") or steps),
            random=bool(os.environ.get(f"{prefix}_RANDOM")),
        )


W = TypeVar("W")


class ModelMachine(RuleBasedStateMachine, Generic[W]):
    """A model's state machine: each history gets the run's world (``self.w``) and a fresh ``tag`` for its ids."""

    world: ClassVar[Any] = None  # set by run_model for the length of a run
    tag_length: ClassVar[int] = 8

    def __init__(self) -> None:
        super().__init__()
        assert self.world is not None, "run the machine with run_model"
        self.w: W = self.world
        self.w.histories += 1
        self.tag = uuid.uuid4().hex[: self.tag_length]


def run_model(machine: type[ModelMachine[W]], budget: Budget, world: W) -> None:
    """Run ``machine`` in ``world`` for the budget: no deadline (moto is slow), no example database, blob printed."""
    machine.world = world
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=budget.examples,
                stateful_step_count=budget.steps,
                deadline=None,
                derandomize=not budget.random,
                database=None,
                suppress_health_check=list(HealthCheck),
                print_blob=True,
            ),
        )
    finally:
        machine.world = None


@dataclass(kw_only=True)
class Tally:
    """How much a model run covered: histories, steps, and the states it reached."""

    coverage: Counter[str] = field(default_factory=Counter)
    histories: int = 0
    steps: int = 0
    started: float = field(default_factory=time.monotonic)

    def summary(self) -> dict[str, Any]:
        return {
            "histories": self.histories,
            "steps": self.steps,
            "seconds": round(time.monotonic() - self.started, 1),
            "reached": dict(sorted(self.coverage.items())),
        }

    def report(self, name: str) -> None:
        print(f"\n{name} model: {json.dumps(self.summary())}")
