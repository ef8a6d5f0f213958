"""Money and time: integer minor units with an ISO 4217 code; timestamps in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, PlainSerializer, StrictInt

from orders.errors import CurrencyMismatch
from orders.models.base import Model

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["USD"])]
# Upper bound keeps every sum far inside DynamoDB's and JSON's exact integer range.
MAX_MINOR_UNITS = 10**13
MinorUnits = Annotated[StrictInt, Field(ge=0, le=MAX_MINOR_UNITS)]


def format_ts(value: datetime) -> str:
    """Fixed-width ISO-8601 UTC (microseconds, 'Z'), so strings sort like the times they hold.

    ``isoformat`` pads the year to four digits (``strftime("%Y")`` writes year 1 as "1" on glibc).
    """
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _to_utc(value: datetime) -> datetime:
    # A time without an offset is read as UTC, as the API contract says all times are; so a naive
    # and an aware time always compare. An offset that moves the time outside years 1..9999
    # (0001-01-01T00:00:00+14:00, 9999-12-31T23:59:59-14:00) is a validation error, not an overflow.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time in UTC falls outside the years 1 to 9999") from exc


UtcDateTime = Annotated[
    datetime,
    AfterValidator(_to_utc),
    PlainSerializer(format_ts, return_type=str, when_used="json"),
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Money(Model):
    """An amount in minor units (cents) of one currency. Never a float."""

    model_config = ConfigDict(frozen=True)

    amount: MinorUnits
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def times(self, quantity: int) -> Money:
        return Money(amount=self.amount * quantity, currency=self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(currencies=sorted({self.currency, other.currency}))
