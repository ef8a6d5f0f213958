"""SES bounce and complaint events (configuration set → SNS → notify): stop e-mailing that address.

Every e-mail goes out through the stack's configuration set, tagged with the user it was for
(``EMAIL_USER_TAG`` in orders.logic.ports; the SES notifier of ``orders.adapters.channels`` sets it).
A permanent bounce or a complaint suppresses that address for that user (``UsersRepository.suppress_email``):
``plan_deliveries`` skips it from then on; a user who sets another address gets e-mail again. A transient
bounce changes nothing (SES already retried it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from orders.logic.ports import EMAIL_USER_TAG
from orders.models.common import utcnow
from orders.observability import logger


class Suppressions(Protocol):
    def suppress_email(self, user_id: str, address: str, reason: str, at: Any) -> None: ...


@dataclass
class EmailEventOutcome:
    suppressed: list[tuple[str, str]] = field(default_factory=list)  # (user id, address)
    ignored: str | None = None


def handle_ses_event(event: Mapping[str, Any], users: Suppressions) -> EmailEventOutcome:
    """One SES event-publishing record (the SNS message, parsed)."""
    kind = str(event.get("eventType") or event.get("notificationType") or "")
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return EmailEventOutcome(ignored=f"bounce {bounce.get('bounceType')}")
        recipients = bounce.get("bouncedRecipients") or []
        reason = f"ses bounce: {bounce.get('bounceType')}/{bounce.get('bounceSubType')}"
    elif kind == "Complaint":
        complaint = event.get("complaint") or {}
        recipients = complaint.get("complainedRecipients") or []
        reason = f"ses complaint: {complaint.get('complaintFeedbackType') or 'unspecified'}"
    else:
        return EmailEventOutcome(ignored=kind or "unknown event")
    tags = (event.get("mail") or {}).get("tags") or {}
    user_ids = tags.get(EMAIL_USER_TAG) or []
    if not user_ids:
        logger.warning("SES event without a user tag: nothing to disable", extra={"ses_event": kind})
        return EmailEventOutcome(ignored="no user tag")
    outcome = EmailEventOutcome()
    now = utcnow()
    for recipient in recipients:
        address = str((recipient or {}).get("emailAddress") or "").strip()
        if not address:
            continue
        users.suppress_email(str(user_ids[0]), address, reason, now)
        outcome.suppressed.append((str(user_ids[0]), address))
        logger.warning("e-mail channel disabled for an address", extra={"user_id": user_ids[0], "reason": reason})
    return outcome


def handle_sns_record(record: Mapping[str, Any], users: Suppressions) -> EmailEventOutcome:
    """One SNS record as Lambda delivers it (``Sns.Message`` is the SES event as JSON)."""
    message = json.loads((record.get("Sns") or {}).get("Message") or "{}")
    return handle_ses_event(message, users)
