"""Checking a delivery: the Standard Webhooks headers, the timestamp window, the signature (computed
by the ``standardwebhooks`` package), then the body and the replay store.

Only this module imports ``standardwebhooks``. The package's own ``Webhook.verify`` is not used
because its 5-minute window and clock are fixed; we take its HMAC (``Webhook.sign``) and do the
header, window and comparison steps here, so ``tolerance`` and ``now`` can be chosen.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pleo_export._config import DEFAULT_WEBHOOK_TOLERANCE
from pleo_export._errors import InvalidArgumentError
from pleo_export.webhooks._errors import (
    WebhookHeaderMissingError,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTimestampFormatError,
)
from pleo_export.webhooks._event import WebhookEvent, WebhookReplayError, parse_event
from pleo_export.webhooks._replay import ReplayStore

try:
    from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "pleo_export.webhooks needs the standardwebhooks package: "
        "pip install 'pleo-export[webhooks]'"
    ) from exc

__all__ = ["Secret", "Signer", "load_secret", "sign_webhook", "verify", "verify_and_parse"]

#: A ``whsec_<base64>`` string (as Pleo shows it), bare base64, or the raw key bytes.
Secret = str | bytes
Signer = Webhook

_ID_HEADER: Final = "webhook-id"
_TIMESTAMP_HEADER: Final = "webhook-timestamp"
_SIGNATURE_HEADER: Final = "webhook-signature"
# Unix seconds as Standard Webhooks sends them; the signed text is these exact digits.
_TIMESTAMP_RE: Final = re.compile(r"[0-9]{1,12}")


def load_secret(secret: Secret) -> Signer:
    """Return the ``standardwebhooks`` signer for ``secret``.

    Raises:
        InvalidArgumentError: The secret is empty, not base64, or neither str nor bytes. The
            message never contains the secret.
    """
    try:
        return Webhook(secret)
    except EmptyWebhookSecretError:
        raise InvalidArgumentError("secret", "is empty") from None
    except (binascii.Error, ValueError, TypeError, RuntimeError):
        raise InvalidArgumentError(
            "secret", "expected 'whsec_<base64>', base64 text or raw key bytes"
        ) from None


def verify_and_parse(
    headers: Mapping[str, str],
    body: bytes | str,
    secret: Secret,
    *,
    tolerance: float = DEFAULT_WEBHOOK_TOLERANCE,
    now: datetime | None = None,
    replay_store: ReplayStore | None = None,
) -> WebhookEvent:
    """Verify a Standard Webhooks delivery from Pleo and parse its event.

    The checks run in this order, and the first failure is raised: the three headers are
    present, ``webhook-timestamp`` is within ``tolerance`` of ``now``, a ``v1`` signature
    matches, the body is an event, and (with a ``replay_store``) the ``webhook-id`` is new.
    An id is recorded in the store only once everything else passed.

    Args:
        headers: The request headers, any mapping; names are matched case-insensitively.
        body: The raw request body, exactly as received (do not re-serialise parsed JSON).
        secret: The endpoint's signing secret, ``whsec_<base64>`` as Pleo shows it (or the
            raw key bytes).
        tolerance: Seconds the timestamp may differ from ``now`` either way (default 300).
        now: The current time, an aware datetime; default the system clock.
        replay_store: Where accepted ids are remembered; None skips the replay check.

    Returns:
        The event. Unknown event types are returned, not refused; check
        ``event.is_export_job_created`` (or ``event.job``) before acting on it.

    Raises:
        WebhookHeaderMissingError: A Standard Webhooks header is absent or empty.
        WebhookTimestampError: ``webhook-timestamp`` is not unix seconds or is too far off.
        WebhookSignatureError: No signature matches the secret and body.
        WebhookPayloadError: The body is not UTF-8 JSON shaped as a Pleo event.
        WebhookReplayError: The id was accepted before (carries the parsed ``event``).
        InvalidArgumentError: The secret, ``tolerance`` or ``now`` is unusable.
    """
    return verify(
        load_secret(secret), headers, body, tolerance=tolerance, now=now, replay_store=replay_store
    )


def verify(
    signer: Signer,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float,
    now: datetime | None,
    replay_store: ReplayStore | None,
) -> WebhookEvent:
    """``verify_and_parse`` with the secret already loaded (the endpoint loads it once)."""
    if tolerance < 0:
        raise InvalidArgumentError("tolerance", "must not be negative")
    if now is not None and now.tzinfo is None:
        raise InvalidArgumentError("now", "must be an aware datetime")
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = _header(lowered, _ID_HEADER)
    timestamp_text = _header(lowered, _TIMESTAMP_HEADER)
    signatures = _header(lowered, _SIGNATURE_HEADER)
    timestamp = check_timestamp(timestamp_text, now or datetime.now(UTC), tolerance)
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookPayloadError("the body is not UTF-8") from None
    else:
        text = body
    if not _signature_matches(signer, webhook_id, timestamp, text, signatures):
        raise WebhookSignatureError("no v1 signature matches the body and the secret")
    event = parse_event(text, webhook_id=webhook_id, timestamp=timestamp)
    if replay_store is not None and not replay_store.claim(webhook_id):
        raise WebhookReplayError(event)
    return event


def check_timestamp(text: str, now: datetime, tolerance: float) -> datetime:
    """Return ``webhook-timestamp`` as a datetime if it is unix seconds within ``tolerance``.

    Raises:
        WebhookTimestampFormatError: Not unix seconds, or beyond the dates Python can hold.
        WebhookTimestampError: More than ``tolerance`` seconds off.
    """
    if _TIMESTAMP_RE.fullmatch(text) is None:
        raise WebhookTimestampFormatError(f"the {_TIMESTAMP_HEADER} header is not unix seconds")
    try:
        timestamp = datetime.fromtimestamp(int(text), UTC)
    except (ValueError, OverflowError, OSError):  # e.g. 999999999999: the year 33658
        raise WebhookTimestampFormatError(
            f"the {_TIMESTAMP_HEADER} header is not a time a date can hold"
        ) from None
    skew = (timestamp - now).total_seconds()
    if abs(skew) > tolerance:
        when = "in the past" if skew < 0 else "in the future"
        raise WebhookTimestampError(
            f"the {_TIMESTAMP_HEADER} is {abs(skew):.0f} s {when}; the tolerance is {tolerance:g} s"
        )
    return timestamp


def sign_webhook(
    body: bytes | str,
    secret: Secret,
    *,
    webhook_id: str,
    timestamp: datetime | None = None,
) -> dict[str, str]:
    """Return the three Standard Webhooks headers for ``body``, as Pleo would send them.

    Meant for tests of your own handler: post ``body`` with these headers to it.

    Args:
        body: The exact body that will be sent.
        secret: The signing secret (``whsec_<base64>`` or raw bytes).
        webhook_id: The ``webhook-id`` (``msg_…``); keep it for a redelivery.
        timestamp: When it is "sent", an aware datetime; default now.

    Returns:
        ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64>``).

    Raises:
        InvalidArgumentError: The secret is unusable.
    """
    signer = load_secret(secret)
    when = (timestamp or datetime.now(UTC)).astimezone(UTC)
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    signature: str = signer.sign(webhook_id, when, text)
    return {
        _ID_HEADER: webhook_id,
        _TIMESTAMP_HEADER: str(int(when.timestamp())),
        _SIGNATURE_HEADER: signature,
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise WebhookHeaderMissingError(name)
    return value


def _signature_matches(
    signer: Any, webhook_id: str, timestamp: datetime, body: str, signatures: str
) -> bool:
    """True if any ``v1,<base64>`` entry of the space-separated list matches.

    The HMAC-SHA256 of ``id.timestamp.body`` comes from ``Webhook.sign``; entries of other
    versions and malformed entries are skipped, as Standard Webhooks asks.
    """
    expected = base64.b64decode(signer.sign(webhook_id, timestamp, body).partition(",")[2])
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, candidate):
            return True
    return False
