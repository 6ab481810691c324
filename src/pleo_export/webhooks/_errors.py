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

``WebhookReplayError`` carries the parsed event, so it is defined beside ``WebhookEvent`` in
``_event.py`` (which imports this module, not the other way round). Messages name the header or
field at fault; they never carry the secret, a signature or the body.
"""

from __future__ import annotations

from pleo_export._errors import PleoError

__all__ = [
    "WebhookError",
    "WebhookHeaderMissingError",
    "WebhookPayloadError",
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
