"""Path and paging parameters shared by the API handlers, each with the example value the sample events use.

A route's sample event (``make events``) is built from its handler: path, query and header parameters
take the first of their ``examples``, the body the first of its request model's ``examples``.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

EXAMPLE_ORDER = "ord_0123456789abcdef0123456789abcdef"
EXAMPLE_REFUND = "rf_0123456789abcdef0123456789abcdef_a1b2c3d4e5f6"

OrderId = Annotated[str, Path(min_length=1, max_length=64, examples=[EXAMPLE_ORDER])]
TicketId = Annotated[str, Path(min_length=1, max_length=128, examples=[f"tkt-{EXAMPLE_ORDER}-0a1b2c3d4e5f"])]
RefundId = Annotated[str, Path(min_length=1, max_length=80, examples=[EXAMPLE_REFUND])]
UserId = Annotated[str, Path(min_length=1, max_length=128, examples=["user-0001"])]
Sku = Annotated[str, Path(min_length=1, max_length=64, examples=["mug-classic"])]

# A page of a list: at most 100 items, and the opaque cursor the previous page returned as ``next_cursor``.
PageLimit = Annotated[int | None, Query(ge=1, le=100, examples=[20])]
PageCursor = Annotated[str | None, Query(max_length=2048)]
