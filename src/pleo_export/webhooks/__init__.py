"""Receiving Pleo's webhooks: verify a Standard Webhooks delivery, parse the export-job event,
and wake the export worker without waiting for its next poll.

::

    from pleo_export.webhooks import WebhookEndpoint, verify_and_parse

    event = verify_and_parse(request.headers, raw_body, secret)   # any framework
    endpoint = WebhookEndpoint(secret, worker=worker)             # or mount this ASGI app

Needs the ``webhooks`` extra (``pip install 'pleo-export[webhooks]'``) for the
``standardwebhooks`` package. See ``docs/webhooks.md``.
"""

from pleo_export.webhooks._asgi import JobNotifier, OnEvent, WebhookEndpoint
from pleo_export.webhooks._errors import (
    WebhookError,
    WebhookHeaderMissingError,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTimestampFormatError,
)
from pleo_export.webhooks._event import (
    EXPORT_JOB_CREATED,
    EXPORT_JOB_CREATED_EVENT_TYPES,
    JobSnapshot,
    WebhookEvent,
    WebhookReplayError,
)
from pleo_export.webhooks._replay import InMemoryReplayStore, ReplayStore
from pleo_export.webhooks._verify import Secret, sign_webhook, verify_and_parse

__all__ = [
    "EXPORT_JOB_CREATED",
    "EXPORT_JOB_CREATED_EVENT_TYPES",
    "InMemoryReplayStore",
    "JobNotifier",
    "JobSnapshot",
    "OnEvent",
    "ReplayStore",
    "Secret",
    "WebhookEndpoint",
    "WebhookError",
    "WebhookEvent",
    "WebhookHeaderMissingError",
    "WebhookPayloadError",
    "WebhookReplayError",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookTimestampFormatError",
    "sign_webhook",
    "verify_and_parse",
]

# Reprs and tracebacks read ``pleo_export.webhooks.WebhookEvent``, not the private module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
