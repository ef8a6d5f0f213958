"""The HTTP side of the local fake providers: a JSON API handler that hands each request to its fake."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler
from typing import Any


class JsonApiHandler(BaseHTTPRequestHandler):
    """Reads the body, asks :meth:`answer` for (status, JSON value), writes it in one response.

    Subclasses implement :meth:`answer` and choose their methods (``do_GET = do_POST = JsonApiHandler.serve``).
    """

    protocol_version = "HTTP/1.1"
    # One write per response, sent at once: no Nagle / delayed-ACK stalls on keep-alive connections.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    content_type = "application/json"
    log = logging.getLogger("local_stack")

    def answer(self, method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, Any]:
        raise NotImplementedError

    def extra_headers(self) -> dict[str, str]:
        return {}

    def serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        status, answer = self.answer(self.command, self.path, dict(self.headers.items()), body)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in self.extra_headers().items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.log.info("%s %s -> %d", self.command, self.path, status)

    def log_message(self, format: str, *args: Any) -> None:
        """One line per request is logged by :meth:`serve`."""
