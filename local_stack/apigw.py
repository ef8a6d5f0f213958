"""A local API Gateway (REST API, Lambda proxy integration) for the routes of template.yaml.

Each request becomes the proxy event AWS would send (path and query parameters, multi-value
headers and query strings, base64 bodies for non-text content, requestContext with the
authorizer's claims) and goes to the real handler in-process; the handler's proxy response
is mapped back. What API Gateway answers by itself (unknown route, wrong method, body over
10 MB, bad token) never reaches a handler.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from local_stack.auth import InvalidToken, verify_token
from local_stack.template import FunctionSpec

log = logging.getLogger("local_stack.api")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
STAGE = "local"
API_ID = "local"
ACCOUNT = "123456789012"
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded|graphql))$", re.IGNORECASE
)

LocalRoute = Callable[[Mapping[str, list[str]]], tuple[int, Any]]
"""A local-only route: query parameters in, (status, JSON body) out."""

# The staff console's static files (console/), served as CloudFront serves them once deployed: the same
# security headers (template.yaml, ConsoleSecurityHeaders), so the local console runs under the same CSP.
CONSOLE_PREFIX = "/console"
CONSOLE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
CONSOLE_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]


def serve_static(root: Path, method: str, path: str) -> HttpResponse:
    """GET a file under ``root`` for ``/console/<file>`` (``/console/`` is index.html); nothing outside it."""
    if method not in ("GET", "HEAD"):
        return error(HTTPStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}.")
    if path == CONSOLE_PREFIX:
        return HttpResponse(HTTPStatus.MOVED_PERMANENTLY.value, [("Location", CONSOLE_PREFIX + "/")], b"")
    relative = path[len(CONSOLE_PREFIX) :].lstrip("/") or "index.html"
    file = (root / relative).resolve()
    if not file.is_relative_to(root.resolve()) or not file.is_file() or file.suffix not in CONSOLE_TYPES:
        return error(HTTPStatus.NOT_FOUND, "NOT_FOUND", f"No file {path}.")
    return HttpResponse(200, [("Content-Type", CONSOLE_TYPES[file.suffix]), *CONSOLE_HEADERS], file.read_bytes())


class Invoker(Protocol):
    def invoke(self, logical_id: str, event: Any) -> Any: ...


class PortInUse(Exception):
    def __init__(self, host: str, port: int, what: str = "API") -> None:
        super().__init__(
            f"{host}:{port} is already in use, so the local {what} cannot listen there. "
            f"Stop whatever is using it, or choose another port (--port / LOCAL_STACK_PORT)."
        )
        self.port = port


# --- routing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    resource: str  # the template's path, e.g. /orders/{order_id}
    function: str  # logical id
    authorized: bool
    pattern: re.Pattern[str]
    literal_segments: int


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


def _compile(resource: str) -> tuple[re.Pattern[str], int]:
    parts = []
    literals = 0
    for segment in resource.strip("/").split("/"):
        if not segment:
            continue
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        param = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
        elif param:
            parts.append(f"(?P<{param.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            literals += 1
    return re.compile("^/" + "/".join(parts) + "$"), literals


def routes_of(specs: Iterable[FunctionSpec]) -> list[Route]:
    routes = []
    for spec in specs:
        for api in spec.routes:
            pattern, literals = _compile(api.path)
            routes.append(Route(api.method.upper(), api.path, spec.logical_id, api.authorized, pattern, literals))
    return routes


class Router:
    """Matches a request path to the template's resources, the most specific first (as API Gateway does)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: (-r.literal_segments, "+}" in r.resource, r.resource))

    def match(self, method: str, path: str) -> Match | HTTPStatus:
        """The route for ``method path``, else NOT_FOUND (no such resource) or METHOD_NOT_ALLOWED."""
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            candidates = [r for r in self.routes if r.resource == route.resource]
            for candidate in candidates:
                if candidate.method in (method, "ANY"):
                    return Match(candidate, {k: unquote(v) for k, v in found.groupdict().items()})
            return HTTPStatus.METHOD_NOT_ALLOWED
        return HTTPStatus.NOT_FOUND


# --- the proxy event ---------------------------------------------------------------------------
def is_text(content_type: str | None) -> bool:
    if not content_type:
        return True
    return bool(_TEXT_TYPES.match(content_type.split(";", 1)[0].strip()))


def build_event(
    *,
    method: str,
    raw_path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    match: Match,
    claims: Mapping[str, str] | None,
    source_ip: str,
    request_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one request (the shape of events/*.json)."""
    split = urlsplit(raw_path)
    path = unquote(split.path)
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value  # API Gateway keeps the last value of a repeated header
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        multi_query.setdefault(key, []).append(value)
    content_type = next((v for k, v in single_headers.items() if k.lower() == "content-type"), None)
    text_body: str | None = None
    encoded = False
    if body:
        if is_text(content_type):
            try:
                text_body = body.decode("utf-8")
            except UnicodeDecodeError:
                text_body, encoded = base64.b64encode(body).decode("ascii"), True
        else:
            text_body, encoded = base64.b64encode(body).decode("ascii"), True
    now = now or datetime.now(UTC)
    user_agent = next((v for k, v in single_headers.items() if k.lower() == "user-agent"), None)
    host = next((v for k, v in single_headers.items() if k.lower() == "host"), "127.0.0.1")
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": API_ID,
        "resourceId": "local",
        "resourcePath": match.route.resource,
        "httpMethod": method,
        "path": f"/{STAGE}{path}",
        "protocol": "HTTP/1.1",
        "stage": STAGE,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {
            "sourceIp": source_ip,
            "userAgent": user_agent,
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "user": None,
            "userArn": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
        },
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": match.route.resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": text_body,
        "isBase64Encoded": encoded,
    }


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MalformedResponse(Exception):
    pass


def map_response(response: Any) -> HttpResponse:
    """A Lambda proxy response → the HTTP response API Gateway sends."""
    if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
        raise MalformedResponse(f"not a proxy response: {type(response).__name__}")
    headers: list[tuple[str, str]] = []
    multi = response.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers.extend((name, str(value)) for value in values)
    multi_names = {name.lower() for name in multi}
    for name, value in (response.get("headers") or {}).items():
        if name.lower() not in multi_names:
            headers.append((name, str(value)))
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpResponse(response["statusCode"], headers, body)


def error(status: HTTPStatus, code: str, message: str) -> HttpResponse:
    body = json.dumps({"code": code, "message": message}).encode()
    return HttpResponse(status.value, [("Content-Type", "application/json")], body)


# --- the server --------------------------------------------------------------------------------
class ApiGateway:
    """Serves the template's API routes (and the local-only routes) on ``host:port``."""

    def __init__(
        self,
        invoker: Invoker,
        specs: Iterable[FunctionSpec],
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        local_routes: Mapping[str, LocalRoute] | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        console_root: Path | None = None,
    ) -> None:
        self.invoker = invoker
        self.host = host
        self.console_root = console_root
        self.configure(specs, local_routes)
        self.max_body_bytes = max_body_bytes
        gateway = self

        class Handler(_RequestHandler):
            api = gateway

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            if exc.errno in (98, 48):  # EADDRINUSE on Linux / macOS
                raise PortInUse(host, port) from exc
            raise
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def configure(self, specs: Iterable[FunctionSpec], local_routes: Mapping[str, LocalRoute] | None = None) -> None:
        """Set the routes (the port can be claimed before the functions are known)."""
        self.router = Router(routes_of(specs))
        self.local_routes = dict(local_routes or {})

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread:
            self.server.shutdown()
            self._thread.join()
        self.server.server_close()

    def handle(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], read_body: Callable[[int], bytes], ip: str
    ) -> tuple[HttpResponse, str]:
        """Answer one request; also returns what served it (for the log line)."""
        path = unquote(urlsplit(raw_path).path)
        if len(path) > 1:
            path = path.rstrip("/")
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0") or 0)
        if length > self.max_body_bytes:
            return error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE", "The request body is too large."
            ), "-"
        if path in self.local_routes:
            return self._local(method, raw_path, path), "local"
        if self.console_root and (path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")):
            return serve_static(self.console_root, method, unquote(urlsplit(raw_path).path)), "console"
        found = self.router.match(method, path)
        if found is HTTPStatus.NOT_FOUND:
            return error(HTTPStatus.NOT_FOUND, "ROUTE_NOT_FOUND", f"No route for {method} {path}."), "-"
        if not isinstance(found, Match):
            return error(
                HTTPStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}."
            ), "-"
        claims = None
        if found.route.authorized:
            try:
                claims = verify_token(next((v for k, v in headers if k.lower() == "authorization"), None))
            except InvalidToken as exc:
                log.info("401 for %s %s: %s", method, path, exc)
                return error(HTTPStatus.UNAUTHORIZED, "UNAUTHORIZED", "A valid bearer token is required."), "-"
        body = read_body(length) if length else b""
        request_id = str(uuid.uuid4())
        event = build_event(
            method=method,
            raw_path=raw_path,
            headers=headers,
            body=body,
            match=found,
            claims=claims,
            source_ip=ip,
            request_id=request_id,
        )
        try:
            response = map_response(self.invoker.invoke(found.route.function, event))
        except Exception:
            log.exception("%s failed on %s %s", found.route.function, method, path)
            response = error(HTTPStatus.BAD_GATEWAY, "INTERNAL_ERROR", "Something went wrong on our side.")
        response.headers.append(("x-amzn-RequestId", request_id))
        return response, found.route.function

    def _local(self, method: str, raw_path: str, path: str) -> HttpResponse:
        if method != "GET":
            return error(HTTPStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}.")
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(urlsplit(raw_path).query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        status, body = self.local_routes[path](query)
        return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(body, default=str).encode())


class _RequestHandler(BaseHTTPRequestHandler):
    api: ApiGateway
    protocol_version = "HTTP/1.1"
    server_version = "local-api-gateway"
    # One write per response, sent at once: no Nagle / delayed-ACK stalls on keep-alive connections.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        started = time.perf_counter()
        headers = list(self.headers.items())
        read_body: Callable[[int], bytes] = self.rfile.read
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # API Gateway takes chunked uploads too: the handler always sees the whole body.
            body = self._read_chunked(self.api.max_body_bytes)
            size = len(body) if body is not None else self.api.max_body_bytes + 1
            headers = [(k, v) for k, v in headers if k.lower() not in ("transfer-encoding", "content-length")]
            headers.append(("Content-Length", str(size)))
            read_body = lambda n: body or b""  # noqa: E731
        response, served_by = self.api.handle(self.command, self.path, headers, read_body, self.client_address[0])
        length = int(self.headers.get("Content-Length") or 0)
        if response.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE or (length and served_by == "-"):
            # The body was not read: do not let it be parsed as the next request.
            self.close_connection = True
            response.headers.append(("Connection", "close"))
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        log.info(
            "%s %s -> %d %s %.0f ms",
            self.command,
            self.path,
            response.status,
            served_by,
            (time.perf_counter() - started) * 1000,
        )

    def _read_chunked(self, limit: int) -> bytes | None:
        """The whole chunked body, or None once it grows past ``limit`` (the rest is left unread)."""
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > limit:
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...): API Gateway answers it like an unknown route, never 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's own access log: :meth:`_serve` logs one line per request."""
