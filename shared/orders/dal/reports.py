"""Reads of the operations report: orders created in a window, then each order's facts.

Never a scan: the window is one key-condition Query per UTC day on GSI4 (keys only), and each
order is one Query on its own partition reading the order, its timeline and its feedback
(SK from "#ORDER" to "FEEDBACK": the small EVENT# dedupe items in between are skipped).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from orders.dal import keys
from orders.dal.dynamo import Repository
from orders.dal.orders import OrdersRepository
from orders.dal.queues import query_merged
from orders.models.common import format_ts
from orders.models.order import Order, TimelineEvent
from orders.models.report import OrderFacts

# Per-order reads run this many at a time (boto3 clients are thread-safe).
_READERS = 8


class ReportsRepository(Repository):
    def orders_created_between(self, start: datetime, end: datetime, *, limit: int) -> list[str]:
        """Ids of orders created in [start, end], oldest first, at most ``limit``."""
        found: list[str] = []
        day, last_day = start.date(), end.date()
        while day <= last_day and len(found) < limit:
            # Every shard of the day (and its legacy unsharded key), merged by "<created_at>#<order id>":
            # the window stays exact and oldest first.
            items, _ = query_merged(
                self.client,
                self._table,
                keys.CREATED_DAY_INDEX,
                keys.created_day_partitions(day.isoformat()),
                after=None,
                lower=format_ts(start),
                # "<end>#~" sorts after every "<end>#<order id>" key ('~' after any id character).
                upper=format_ts(end) + "#~",
                limit=limit - len(found),
            )
            found += [str(item["PK"]["S"]).removeprefix("ORDER#") for item in items]
            if day == last_day:  # 9999-12-31 has no next day (OverflowError)
                break
            day += timedelta(days=1)
        return found[:limit]

    def facts(self, order_ids: list[str]) -> list[OrderFacts]:
        if not order_ids:
            return []
        with ThreadPoolExecutor(max_workers=min(_READERS, len(order_ids))) as pool:
            return [fact for fact in pool.map(self.order_facts, order_ids) if fact is not None]

    def order_facts(self, order_id: str) -> OrderFacts | None:
        order: Order | None = None
        timeline: list[TimelineEvent] = []
        rating: int | None = None
        orders = OrdersRepository(self._table, self._client)
        # Eventually consistent: a report of past days does not need the latest write.
        for data in orders.order_partition(order_id, until=keys.FEEDBACK_SK, consistent=False):
            sk = data["SK"]
            if sk == keys.ORDER_SK:
                order = Order.model_validate(data)
            elif sk.startswith(keys.TIMELINE_PREFIX):
                timeline.append(TimelineEvent.model_validate(data))
            elif sk == keys.FEEDBACK_SK:
                rating = int(data["rating"])
        if order is None:
            return None
        return OrderFacts(order=order, timeline=timeline, rating=rating)
