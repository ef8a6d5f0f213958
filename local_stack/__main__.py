"""``python -m local_stack [run|token|invoke|demo]``: the local stack's command line.

- ``run`` (the default): start everything on 127.0.0.1 and serve until Ctrl-C. With
  ``--state-dir DIR`` (``make run`` passes ``.local-state``) the state is kept there and restored
  at the next start (``--fresh``: forget it and start empty); without, everything is in memory.
- ``token --user U [--groups a,b] [--merchant M] [--ttl S]``: print a dev JWT, and nothing else.
- ``invoke FN EVENT``: run one function of template.yaml with an event file, in-process
  against a fresh local stack; the response goes to stdout, logs to stderr.
- ``demo [--url URL]``: drive the full scenario over HTTP against a running stack.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from types import FrameType
from typing import TextIO

DEFAULT_PORT = 3000


def _configure_logging(stream: TextIO | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s.%(msecs)03d %(levelname)-7s %(name)-18s %(message)s",
        datefmt="%H:%M:%S",
        stream=stream,
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _run(args: argparse.Namespace) -> int:
    from local_stack.apigw import PortInUse
    from local_stack.stack import LocalStack

    _configure_logging()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    log = logging.getLogger("local_stack")
    state_dir = Path(args.state_dir) if args.state_dir else None
    stack = LocalStack(
        port=args.port, stripe_port=args.stripe_port, moto_port=args.moto_port, state_dir=state_dir, fresh=args.fresh
    )
    try:
        stack.start()
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted during start-up; stopped", file=sys.stderr)
        return 130
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("API          %s", stack.url)
    log.info(
        "fake Stripe  %s (webhooks to %s)",
        stack.stripe_server.url if stack.stripe_server else "-",
        stack.stripe.webhook_url,
    )
    log.info("moto         %s", stack.moto_endpoint)
    log.info(
        "ready in %.2f s; a token: python -m local_stack token --user user-0001; Ctrl-C stops", stack.startup_seconds
    )
    while not stopping.wait(0.5):
        pass
    log.info("stopping")
    stack.stop()
    log.info("stopped")
    return 0


def _token(args: argparse.Namespace) -> int:
    from local_stack.auth import issue_token

    groups = [group.strip() for group in (args.groups or "").split(",") if group.strip()]
    print(issue_token(args.user, groups, ttl_seconds=args.ttl, merchant_id=args.merchant or None))
    return 0


def _invoke(args: argparse.Namespace) -> int:
    # Handlers log to stdout (Powertools); keep stdout for the response alone, like `sam local invoke`.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    _configure_logging(sys.stderr)
    from local_stack.stack import LocalStack

    event = json.loads(Path(args.event).read_text())
    with LocalStack(port=0, serve_api=False) as stack:
        if args.function not in (stack.runtime.specs if stack.runtime else {}):
            print(f"error: no function {args.function!r} in template.yaml", file=sys.stderr)
            return 2
        response = stack.invoke(args.function, event)
    print(json.dumps(response, indent=2), file=real_stdout)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from local_stack.demo import run_demo

    return run_demo(args.url)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="start the local stack (the default)")
    for target in (parser, run):
        target.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_STACK_PORT", DEFAULT_PORT)))
        target.add_argument("--stripe-port", type=int, default=int(os.environ.get("LOCAL_STRIPE_PORT", 0)))
        target.add_argument("--moto-port", type=int, default=int(os.environ.get("LOCAL_MOTO_PORT", 0)))
        target.add_argument(
            "--state-dir",
            default=os.environ.get("LOCAL_STACK_STATE_DIR") or None,
            help="keep the state in this folder between runs (make run: .local-state); default: in memory only",
        )
        target.add_argument("--fresh", action="store_true", help="forget the state saved in --state-dir; start empty")
    token = sub.add_parser("token", help="print a dev JWT for a user (and nothing else)")
    token.add_argument("--user", required=True)
    token.add_argument("--groups", default="", help="comma-separated: reviewer,support,ops,analyst,merchant")
    token.add_argument("--merchant", default="", help="the shop of a merchant user (custom:merchant_id)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    invoke = sub.add_parser("invoke", help="invoke one function in-process with an event file")
    invoke.add_argument("function", help="logical id in template.yaml, e.g. CatalogFunction")
    invoke.add_argument("event", help="event file, e.g. events/catalog_list_products.json")
    demo = sub.add_parser("demo", help="drive the full scenario over HTTP against a running stack")
    demo.add_argument("--url", default=os.environ.get("LOCAL_STACK_URL", f"http://127.0.0.1:{DEFAULT_PORT}"))
    args = parser.parse_args(argv)
    args.started = started
    handlers = {"token": _token, "invoke": _invoke, "demo": _demo}
    return handlers.get(args.command or "run", _run)(args)


if __name__ == "__main__":
    sys.exit(main())
