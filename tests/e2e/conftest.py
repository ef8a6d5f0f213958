"""End-to-end: the local stack runs once per session, as its own process on free ports, used over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local_stack.stack import free_port
from local_stack.template import ROOT

# A cold start of the whole stack takes ~10 s on a quiet machine; CI runs two test workers on two cores.
STARTUP_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class RunningStack:
    url: str
    port: int
    startup_seconds: float


@contextmanager
def local_stack_process(log_path: Path, *args: str) -> Iterator[RunningStack]:
    """``python -m local_stack`` on a free port (plus ``args``), up once it serves the catalog; stopped
    with Ctrl-C (SIGINT), as a developer stops ``make run``."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    started = time.perf_counter()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not come up:\n{log_path.read_text()[-4000:]}")
            try:
                # The first request imports the catalog handler (a cold start): give it time.
                if requests.get(f"{url}/products", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                # The port is bound before the stack serves: a probe sent early waits for start-up.
                time.sleep(0.1)
        yield RunningStack(url, port, time.perf_counter() - started)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)  # a stack with a state folder saves it before it exits
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with local_stack_process(tmp_path_factory.mktemp("local-stack") / "stack.log") as stack:
        yield stack
