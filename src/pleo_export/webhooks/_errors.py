"""The errors a webhook delivery can be refused with.

::

    PleoError
    └── WebhookError                    a delivery was refused
        ├── WebhookHeaderMissingError   webhook-id, webhook-timestamp or webhook-signature is absent
        ├── WebhookTimestampError       webhook-timestamp is outside the tolerance
        │   └── WebhookTimestampFormatError     …or is not unix seconds a date can hold
        ├── WebhookSignatureError       no v1 signature matches the secret (wrong secret, tampering)
        ├── WebhookPayloadError         the signed body is not the JSON event Pleo documents
        └── WebhookReplayError          this webhook-id was already accepted (replay or redelivery)

Messages name the header or field at fault; they never carry the secret, a signature or the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pleo_export._errors import PleoError

if TYPE_CHECKING:
    from pleo_export.webhooks._event import WebhookEvent

__all__ = [
    "WebhookError",
    "WebhookHeaderMissingError",
    "WebhookPayloadError",
    "WebhookReplayError",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookTimestampFormatError",
]


class WebhookError(PleoError):
    """A webhook delivery was refused; catch this to handle every reason at once."""


class WebhookHeaderMissingError(WebhookError):
    """A Standard Webhooks header (``webhook-id``, ``-timestamp`` or ``-signature``) is absent."""

    def __init__(self, header: str) -> None:
        super().__init__(f"the {header} header is missing or empty")
        self.header = header


class WebhookTimestampError(WebhookError):
    """``webhook-timestamp`` is not unix seconds, or lies outside the tolerance window."""


class WebhookTimestampFormatError(WebhookTimestampError):
    """``webhook-timestamp`` is not unix seconds, or names a time no date can hold (a
    malformed request: the endpoint answers 400)."""


class WebhookSignatureError(WebhookError):
    """No ``v1`` signature in ``webhook-signature`` matches: a wrong secret or a tampered body."""


class WebhookPayloadError(WebhookError):
    """The (authentic) body is not a JSON event, or an export-job event lacks the job's ids."""


class WebhookReplayError(WebhookError):
    """The ``webhook-id`` was accepted before: an attacker's replay or the sender's redelivery.

    Attributes:
        webhook_id: The repeated id.
        event: The delivery, verified and parsed; it is authentic, only not new.
    """

    def __init__(self, event: WebhookEvent) -> None:
        super().__init__(f"webhook {event.webhook_id} was already accepted")
        self.webhook_id = event.webhook_id
        self.event = event
