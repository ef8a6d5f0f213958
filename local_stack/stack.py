"""The local stack: moto in-process, the template's resources, the API, the fake payment provider.

``LocalStack(...).start()`` brings the whole system up on loopback; ``stop()`` takes it down and
puts back what it changed in this process (environment, moto's Lambda backend, moto config).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
import requests

from local_stack.apigw import ApiGateway, PortInUse
from local_stack.auth import issue_token
from local_stack.fake_carrier import NAME as CARRIER_NAME
from local_stack.fake_carrier import FakeCarrier
from local_stack.fake_google_play import (
    PUSH_SERVICE_ACCOUNT,
    FakeGooglePlay,
    FakeGooglePlayServer,
    regional_access_boundary_lookups_to,
)
from local_stack.fake_stripe import LOCAL_API_KEY, Delivery, FakeStripe, FakeStripeServer, sign
from local_stack.moto_patches import (
    atomic_dynamodb_writes,
    dynamodb_writes,
    expiring_stream_iterators,
    lambda_invocations_to,
    on_stream_record,
)
from local_stack.persistence import Saver, restore_stripe, restore_tables, save_stripe, save_tables
from local_stack.resources import (
    LOCAL_SECRET_VALUES,
    LOCAL_SENDER,
    REGION,
    CreatedResources,
    create_resources,
    load_seed,
    seed_catalog,
)
from local_stack.runtime import LambdaRuntime
from local_stack.streams import StreamPoller
from local_stack.template import ROOT, TEMPLATE, load_template, resolve
from local_stack.webhook_retry import WebhookOutbox

log = logging.getLogger("local_stack")

# What moto must do for the local stack: run state machines, and never look for Docker for Lambda.
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# A poller is woken by every stream write; without one it still looks this often.
STREAM_IDLE_POLL_SECONDS = 0.5
REARM_WAIT_SECONDS = 30.0  # re-armed reviews storing their new task tokens before the API serves
STAFF_GROUPS = frozenset({"reviewer", "support", "ops", "analyst"})
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


class LocalStack:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        stripe_port: int = 0,
        moto_port: int = 0,
        template_path: Path = TEMPLATE,
        seed: bool = True,
        serve_api: bool = True,
        state_dir: Path | None = None,
        fresh: bool = False,
        save_interval: float = 10.0,
    ) -> None:
        self.host = host
        self.template = load_template(template_path)
        self._port = port
        self._stripe_port = stripe_port
        self._moto_port = moto_port
        self._seed = seed
        self._serve_api = serve_api
        self._env_before: dict[str, str] | None = None
        self._moto: Any = None
        self._moto_config_before: Any = {}
        self.api: ApiGateway | None = None
        self.stripe: FakeStripe = FakeStripe()
        self.stripe_server: FakeStripeServer | None = None
        self.google: FakeGooglePlay = FakeGooglePlay()
        self.google_server: FakeGooglePlayServer | None = None
        self.runtime: LambdaRuntime | None = None
        self.created: CreatedResources | None = None
        self.pollers: list[tuple[str, StreamPoller]] = []  # (consumer function, its stream poller)
        self._bus_events: list[dict[str, Any]] = []
        self._bus_lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        # Called first, newest first, by stop(): background workers register here (stream pollers).
        self.on_stop: list[Callable[[], None]] = []
        self.startup_seconds = 0.0
        # State on disk (None: all in memory). ``fresh`` forgets what was saved before.
        self.state_dir = state_dir
        self._fresh = fresh
        self._save_interval = save_interval
        self._saver: Saver | None = None
        self.restored: dict[str, float] = {}  # items, stripe objects, reviews, seconds
        # Webhooks of the fake providers: retried with backoff until the API answers (kept on disk).
        self.webhooks = WebhookOutbox(state_dir / "webhooks.json" if state_dir else None)
        # The fake parcel carrier: follows orders shipped with it and calls back, signed (fake_carrier.py).
        self.carrier = FakeCarrier(
            secret=json.loads(LOCAL_SECRET_VALUES["CarrierSecrets"])[CARRIER_NAME],
            step_seconds=float(os.environ.get("FAKE_CARRIER_STEP_SECONDS", "2")),
        )

    # --- public ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.api is not None
        return self.api.url

    @property
    def moto_endpoint(self) -> str:
        return f"http://{self.host}:{self._moto_port}"

    def client(self, service: str) -> Any:
        """A boto3 client of the local stack's moto (made once per service: clients are thread-safe)."""
        if service not in self._clients:
            self._clients[service] = _session().client(service, endpoint_url=self.moto_endpoint)
        return self._clients[service]

    def invoke(self, logical_id: str, event: Any) -> Any:
        assert self.runtime is not None, "start() first"
        return self.runtime.invoke(logical_id, event)

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        started = time.perf_counter()
        self._env_before = dict(os.environ)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started

    def _start(self) -> None:
        # Claim the public ports first, so that a port in use fails fast with a clear message.
        if self._serve_api:
            self.api = ApiGateway(self, [], host=self.host, port=self._port, console_root=ROOT / "console")
        self.stripe_server = FakeStripeServer(self.stripe, self.host, self._stripe_port)
        self.google_server = FakeGooglePlayServer(self.google, self.host)
        self.google.push_audience = self._google_audience()
        # LOCAL ONLY: google-auth's Regional Access Boundary lookup (after a token refresh) goes to the fake.
        lookups = contextlib.ExitStack()
        lookups.enter_context(regional_access_boundary_lookups_to(self.google_server.url))
        self.on_stop.insert(0, lookups.close)
        self._start_moto()
        # LOCAL ONLY: the service-account key the fake Google issued goes where a deployer puts the real one.
        secrets = {**LOCAL_SECRET_VALUES, "GoogleServiceAccountSecret": self.google.service_account_key()}
        self.created = create_resources(_session(), self.moto_endpoint, self.template, secrets)
        self.created.refs.update(self.parameter_overrides())
        # The local sender (a parameter override) must be a verified identity, as on AWS.
        self.client("ses").verify_email_identity(EmailAddress=LOCAL_SENDER)
        if self._seed and "CatalogTable" in self.created.tables:
            products = load_seed()
            seed_catalog(self.client("dynamodb"), self.created.tables["CatalogTable"], products)
            log.info("seeded %d products into %s", len(products), self.created.tables["CatalogTable"])
        self._restore_state()
        self.runtime = LambdaRuntime(self.created.refs, base_env=self.base_env(), template=self.template)
        self._dispatch_lambda_to_runtime()
        _forget_cached_clients()
        if self.api is not None:
            self.api.configure(
                self.runtime.specs.values(),
                {
                    "/_local/notifications": self._notifications,
                    "/_local/events": self._events,
                    "/_local/providers": self._providers,
                    # LOCAL ONLY (never in template.yaml): the console's dev sign-in and its settings.
                    "/_local/token": self._dev_token,
                    "/console/config.json": self._console_config,
                    "/_local/runtime": self._runtime_state,
                },
            )
            self.stripe.webhook_url = f"{self.api.url}/webhooks/stripe"
            self.webhooks.retarget("stripe", self.stripe.webhook_url)
        self._send_webhooks_through_the_outbox()
        self.stripe_server.start()
        self.google_server.start()
        self._start_stream_consumers()
        self._start_fake_carrier()
        self.webhooks.start()
        self.on_stop.append(self.webhooks.stop)
        # Reviews waiting on a task token are re-armed before the API serves: a decision sent as soon as
        # the stack answers (the port is bound: it waits meanwhile) finds the new execution's token.
        self._rearm_reviews()
        if self.api is not None:
            self.api.start()
        if self.state_dir is not None:
            self._saver = Saver(self.save_state, dynamodb_writes, interval=self._save_interval).start()

    def base_env(self) -> dict[str, str]:
        """What every function sees besides its template environment (region, endpoints, local secrets)."""
        assert self.stripe_server is not None
        assert self.google_server is not None
        return {
            **FAKE_CREDENTIALS,
            # LOCAL ONLY: the fake Google's Play API and its OIDC certificates (its key is in Secrets Manager).
            "GOOGLE_PLAY_API_BASE": self.google_server.url,
            "GOOGLE_OIDC_CERTS_URL": f"{self.google_server.url}/oauth2/v1/certs",
            "AWS_ENDPOINT_URL": self.moto_endpoint,
            "MOTO_PORT": str(self._moto_port),
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_METRICS_NAMESPACE": "OrderManagement",
        }

    def parameter_overrides(self) -> dict[str, str]:
        """The template parameters of the local deployment (as `sam deploy --parameter-overrides`).

        No secrets: those are in moto's Secrets Manager (``resources.LOCAL_SECRET_VALUES``).
        """
        assert self.stripe_server is not None
        return {
            "Stage": "local",
            "StripeApiBase": self.stripe_server.url,
            "SenderEmail": LOCAL_SENDER,
            "GooglePubsubAudience": self._google_audience(),
            "GooglePubsubServiceAccount": PUSH_SERVICE_ACCOUNT,
        }

    def _google_audience(self) -> str:
        return f"{self.api.url}/webhooks/google" if self.api is not None else "local-only-google-audience"

    def stop(self) -> None:
        """Stop everything started, in reverse order, and restore this process's state."""
        while self.on_stop:
            self.on_stop.pop()()
        if self.api is not None:
            self.api.stop()
        if self.stripe_server is not None:
            self.stripe_server.stop()
        if self.google_server is not None:
            self.google_server.stop()
        if self._saver is not None:
            self._saver.stop()  # the last save: nothing writes any more
            log.info("state saved to %s in %.2f s", self.state_dir, self._saver.last_seconds)
            self._saver = None
        if self._moto is not None:
            from moto.core.config import default_user_config

            default_user_config.update(self._moto_config_before)
            self._moto.stop()
            self._moto = None
        self._clients.clear()
        if self._env_before is not None:
            os.environ.clear()
            os.environ.update(self._env_before)
            self._env_before = None
        from orders import config

        config.use_environment(config.process_environment)
        _forget_cached_clients()

    # --- state on disk -----------------------------------------------------------------------
    def save_state(self) -> None:
        """Write the tables and the fake provider's objects under ``state_dir``."""
        assert self.state_dir is not None
        assert self.created is not None
        self.state_dir.mkdir(parents=True, exist_ok=True)
        save_tables(self.state_dir, self.created.tables)
        save_stripe(self.state_dir, self.stripe)

    def _restore_state(self) -> None:
        if self.state_dir is None:
            return
        assert self.created is not None
        if self._fresh and self.state_dir.exists():
            import shutil

            shutil.rmtree(self.state_dir)
            log.info("fresh start: the saved state in %s was removed", self.state_dir)
        began, cpu = time.perf_counter(), time.process_time()
        items = restore_tables(self.state_dir, self.created.tables)
        objects = restore_stripe(self.state_dir, self.stripe)
        self.restored = {
            "items": items,
            "stripe_objects": objects,
            "seconds": time.perf_counter() - began,
            "cpu_seconds": time.process_time() - cpu,  # the process's: this machine may be busy with others
        }
        if items or objects:
            log.info(
                "restored %d items and %d fake Stripe objects from %s in %.2f s",
                items,
                objects,
                self.state_dir,
                self.restored["seconds"],
            )

    def _rearm_reviews(self) -> None:
        """Restored items waiting on a Step Functions task token had their execution in the old
        process: give each a new execution that starts at the waiting task (same definition), so a
        reviewer's decision (or the deadline) resumes it as before; wait until they stored their tokens
        (at most ``REARM_WAIT_SECONDS``: a review re-armed later answers 409 "not open yet" until then)."""
        assert self.created is not None
        if not self.restored.get("items"):
            return
        from local_stack.persistence import await_task_tokens, rearm_waiting_tasks

        began = time.perf_counter()
        sfn = self.client("stepfunctions")
        rearmed = rearm_waiting_tasks(sfn, self.created)
        self.restored["reviews"] = len(rearmed)
        if not rearmed:
            return
        late = await_task_tokens(sfn, rearmed, REARM_WAIT_SECONDS)
        self.restored["rearm_seconds"] = time.perf_counter() - began
        log.info(
            "re-armed %d review task(s) waiting on a task token in %.2f s",
            len(rearmed),
            self.restored["rearm_seconds"],
        )
        if late:
            log.warning(
                "%d re-armed review(s) had not stored their task token after %.0f s: a decision on them "
                "answers 409 (review not open yet) until they do",
                len(late),
                REARM_WAIT_SECONDS,
            )

    def _send_webhooks_through_the_outbox(self) -> None:
        """The fake Stripe's webhooks go through the retrying outbox (see ``local_stack.webhook_retry``)."""
        fake = self.stripe
        self.webhooks.register("stripe", lambda body: {"Stripe-Signature": sign(body, fake.webhook_secret)})

        def deliver(delivery: Delivery, post: Any = None) -> None:
            if fake.webhook_url:
                label = f"{delivery.event.get('type')} {delivery.event.get('id')}"
                self.webhooks.submit("stripe", fake.webhook_url, json.dumps(delivery.event), label=label)

        fake.deliver = deliver  # type: ignore[method-assign]

    def _start_fake_carrier(self) -> None:
        """The fake carrier reads OrdersTable's stream (as a carrier learns of a parcel when it is handed over)."""
        assert self.created is not None
        if self.api is None or "OrdersTable" not in self.created.tables:
            return
        self.carrier.attach(self.webhooks, f"{self.api.url}/webhooks/carriers/{CARRIER_NAME}")
        arn = self.client("dynamodb").describe_table(TableName=self.created.tables["OrdersTable"])["Table"][
            "LatestStreamArn"
        ]
        poller = StreamPoller(
            self.client("dynamodbstreams"),
            arn,
            self.carrier.consume,
            starting_position="TRIM_HORIZON",
            poll_interval=STREAM_IDLE_POLL_SECONDS,
        )
        poller.start()
        self.on_stop.append(poller.stop)
        self.on_stop.append(self.carrier.stop)
        self.on_stop.append(on_stream_record(poller.wake))

    # --- parts -------------------------------------------------------------------------------
    def _start_moto(self) -> None:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        if not self._moto_port:
            self._moto_port = free_port(self.host)
        elif not _port_free(self.host, self._moto_port):
            raise PortInUse(self.host, self._moto_port, "AWS emulator (moto)")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._moto_config_before = copy.deepcopy(default_user_config)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self._moto_port, verbose=False)
        self._moto.start()
        # DynamoDB applies each write and transaction atomically; make the fake do the same.
        atomic = contextlib.ExitStack()
        atomic.enter_context(atomic_dynamodb_writes())
        atomic.enter_context(expiring_stream_iterators())
        self.on_stop.insert(0, atomic.close)
        # moto's Step Functions executor calls back into localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self._moto_port)
        requests.post(f"{self.moto_endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()
        log.info("moto on %s", self.moto_endpoint)

    def _dispatch_lambda_to_runtime(self) -> None:
        """Lambda invocations inside moto (Step Functions tasks, lambda:Invoke) run the real handler."""
        assert self.runtime is not None
        dispatch = contextlib.ExitStack()
        dispatch.enter_context(lambda_invocations_to(self.runtime))
        self.on_stop.insert(0, dispatch.close)

    def _start_stream_consumers(self) -> None:
        """Deliver DynamoDB stream records to every function with a DynamoDB event, as Lambda does.

        One poller per event, with the event's settings (batch size, retries, bisect, filters);
        records it gives up on go to the event's on-failure SQS destination, as on AWS.
        """
        assert self.runtime is not None
        assert self.created is not None
        from local_stack.streams import pollers_from_template

        self.pollers = pollers_from_template(
            self.template,
            self.created.tables,
            self.client("dynamodb"),
            self.client("dynamodbstreams"),
            self.runtime.invoke,
            on_failure=self._stream_failure,
            # The tables were created empty just now: read each stream from its start, losing nothing.
            starting_position="TRIM_HORIZON",
            # moto wakes the pollers when it puts records on a stream; the interval is the fallback.
            poll_interval=STREAM_IDLE_POLL_SECONDS,
        )
        for function, poller in self.pollers:
            poller.start()
            self.on_stop.append(poller.stop)
            self.on_stop.append(on_stream_record(poller.wake))
            log.info("stream %s → %s", poller.stream_arn.rsplit("/", 3)[-3], function)

    def _stream_failure(self, function: str, info: dict[str, Any]) -> None:
        """Send what a poller gave up on to the on-failure destination of the function's stream event."""
        assert self.created is not None
        spec = self.template["Resources"][function]["Properties"]
        destinations = [
            event["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            for event in spec.get("Events", {}).values()
            if event.get("Type") == "DynamoDB"
        ]
        queue_arn = next((resolve(d, self.created.refs) for d in destinations if d), None)
        log.error("%s: stream records given up (%s)", function, "to " + queue_arn if queue_arn else "no destination")
        if queue_arn:
            queue_url = self.client("sqs").get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
            self.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(info, default=str))

    # --- local-only inspection routes --------------------------------------------------------
    def _runtime_state(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        """Per function: how many invocations may run at once, and the most that did."""
        assert self.runtime is not None
        runtime = self.runtime
        return 200, {
            "functions": {
                name: {"concurrency": runtime.concurrency[name], "peak": runtime.peak[name]} for name in runtime.specs
            }
        }

    def _providers(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        """Where the fake payment providers listen, for clients playing the app's payment SDK."""
        assert self.stripe_server is not None
        assert self.google_server is not None
        return 200, {
            "stripe": {"api_base": self.stripe_server.url, "api_key": LOCAL_API_KEY, "local_only": True},
            "google": {"api_base": self.google_server.url, "local_only": True},
        }

    def _dev_token(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        """LOCAL ONLY: a dev token for any user and staff groups (as `make token`), for the console's dev sign-in."""
        user = (query.get("user") or [""])[-1].strip()
        groups = [g for g in (query.get("groups") or [""])[-1].split(",") if g]
        if not re.fullmatch(r"[A-Za-z0-9._@-]{1,64}", user) or not set(groups) <= STAFF_GROUPS:
            return 400, {
                "code": "VALIDATION_ERROR",
                "message": f"user: 1-64 of [A-Za-z0-9._@-]; groups: {sorted(STAFF_GROUPS)}",
            }
        return 200, {"id_token": issue_token(user, groups), "expires_in": 3600, "local_only": True}

    def _console_config(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        """What `make console-deploy` writes as config.json on AWS; locally: dev sign-in, same-origin API."""
        defaults = self.template.get("Parameters", {})
        return 200, {
            "auth": "local",
            "apiBase": "",
            "reviewTimeoutAction": defaults.get("RefundReviewTimeoutAction", {}).get("Default", "approve"),
        }

    def _notifications(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        assert self.created is not None
        table = self.created.tables.get("OrdersTable")
        if table is None:
            return 200, {"items": []}
        ddb = self.client("dynamodb")
        order_id = (query.get("order_id") or [""])[-1]
        raw: list[dict[str, Any]] = []
        if order_id:
            kwargs: dict[str, Any] = {
                "TableName": table,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
                "ExpressionAttributeValues": {":pk": {"S": f"ORDER#{order_id}"}, ":sk": {"S": "NOTIFY#"}},
            }
            paginator = ddb.get_paginator("query")
        else:
            kwargs = {
                "TableName": table,
                "FilterExpression": "#t = :t",
                "ExpressionAttributeNames": {"#t": "type"},
                "ExpressionAttributeValues": {":t": {"S": "NOTIFICATION"}},
            }
            paginator = ddb.get_paginator("scan")
        for page in paginator.paginate(**kwargs):
            raw.extend(page["Items"])
        from boto3.dynamodb.types import TypeDeserializer

        plain = TypeDeserializer()
        fields = ("order_id", "event", "channel", "to", "subject", "body", "at")
        items = [{name: plain.deserialize(item[name]) for name in fields if name in item} for item in raw]
        items.sort(key=lambda item: str(item.get("at", "")))
        return 200, {"items": items}

    def _events(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        assert self.created is not None
        sqs = self.client("sqs")
        with self._bus_lock:
            for bus, url in self.created.buses.items():
                while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                    for message in messages:
                        event = json.loads(message["Body"])
                        self._bus_events.append(
                            {
                                "source": event.get("source"),
                                "detail-type": event.get("detail-type"),
                                "detail": event.get("detail"),
                                "time": event.get("time"),
                                "bus": bus,
                            }
                        )
                    sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                    )
            return 200, {"items": list(self._bus_events)}


def _session() -> Any:
    """A boto3 session for moto (any credentials do; these are not secrets)."""
    return boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )


def _forget_cached_clients() -> None:
    """Clients cached before the stack's endpoint was set must not be reused (nor after it stops)."""
    try:
        from orders import cache
        from orders.dal.dynamo import dynamodb_client
    except ImportError:
        return
    dynamodb_client.cache_clear()
    cache.reset()
