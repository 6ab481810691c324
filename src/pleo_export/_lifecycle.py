"""The export job state machine as data, the policy of which event ends a job, and the
transition helpers built on them.

``TRANSITIONS`` and the checks and choices over it are pure functions. ``transition`` posts one
event the safe way: retried on timeouts, dropped connections and 5xx, then reconciled by
re-reading the job when a repeated event meets a 422 or the outcome stays unknown. Listing jobs
and working through their items is left to ``_run`` and ``_worker``.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Final

import httpx

from ._errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidArgumentError,
    InvalidStatusChangeError,
    InvalidTransitionError,
    PermissionDeniedError,
    PleoError,
    RateLimitError,
    ServerError,
)
from ._port import JobEvents, JobLike
from ._retry import transport_error_is_safe_to_retry

__all__ = [
    "EVENTS",
    "FINAL_STATUSES",
    "KNOWN_STATUSES",
    "RUNNING_STATUSES",
    "TRANSITIONS",
    "allowed_events",
    "attempt_recorder",
    "check_event_fields",
    "check_transition",
    "final_event",
    "job_failure_type",
    "job_failure_type_for",
    "job_ref",
    "may_have_landed",
    "status_text",
    "target_status",
    "transition",
]

logger: Final = logging.getLogger("pleo_export")

#: (status, event) → the status the job moves to. Pleo answers 422
#: INVALID_EXPORT_JOB_STATUS_CHANGE to any pair not listed (pleo-domain.md §1.10).
TRANSITIONS: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        ("pending", "started"): "in_progress",
        ("in_progress", "completed"): "completed",
        ("in_progress", "completed_with_errors"): "completed_with_errors",
        ("in_progress", "failed"): "failed",
    }
)
#: The events of ``ExportJobEventType``, in the order a job meets them.
EVENTS: Final = ("started", "completed", "completed_with_errors", "failed")
#: Statuses from which no event leads anywhere.
FINAL_STATUSES: Final = frozenset({"completed", "completed_with_errors", "failed"})
#: Statuses of a job that still accepts item reads and updates.
RUNNING_STATUSES: Final = frozenset({"pending", "in_progress"})
#: Every status this SDK knows; any other one is newer than the SDK and left to the server.
KNOWN_STATUSES: Final = RUNNING_STATUSES | FINAL_STATUSES

_TARGETS: Final = {event: to for (_, event), to in TRANSITIONS.items()}

#: Item-level failure types with a job-level twin of the same name and meaning.
_SHARED_FAILURE_TYPES: Final = frozenset(
    {
        "invalid_configuration",
        "missing_configuration",
        "accounting_system_authentication_failure",
        "accounting_system_rate_limit",
        "accounting_system_unreachable",
        "accounting_system_timeout",
        "authorization_failure",
        "validation_failure",
    }
)


def allowed_events(status: str) -> tuple[str, ...]:
    """The events a job in ``status`` accepts (empty for a final or unknown status)."""
    return tuple(event for event in EVENTS if (status, event) in TRANSITIONS)


def target_status(event: str) -> str:
    """The status an event leads to, whatever the status before it.

    Raises:
        InvalidArgumentError: ``event`` is not one of ``EVENTS``.
    """
    try:
        return _TARGETS[event]
    except KeyError:
        raise InvalidArgumentError(
            "event", f"unknown event {event!r} (known: {', '.join(EVENTS)})"
        ) from None


def check_transition(status: str, event: str, *, job_id: str = "?") -> str | None:
    """Check an event against a job status known from a model; return the next status.

    Args:
        status: the job's status as last read.
        event: one of ``EVENTS``.
        job_id: for the error message.

    Returns:
        The status the event leads to, or None when ``status`` is one this SDK does not know
        (a status Pleo added later): the server decides then, so nothing is refused here.

    Raises:
        InvalidArgumentError: ``event`` is unknown.
        InvalidTransitionError: the known status does not allow the event.
    """
    target = target_status(event)
    if status not in KNOWN_STATUSES:
        return None
    if (status, event) not in TRANSITIONS:
        raise InvalidTransitionError(job_id, status, event, allowed_events(status))
    return target


def check_event_fields(
    event: str,
    reason: str | None,
    reason_type: str | None,
    *,
    names: tuple[str, str] = ("reason", "reason_type"),
) -> None:
    """Failure details belong to ``failed`` only, as Pleo's CreateExportJobEvent says.

    Args:
        names: the caller's names of the two arguments, for the error.

    Raises:
        InvalidArgumentError: a reason or reason type given with another event.
    """
    if event != "failed":
        for name, value in zip(names, (reason, reason_type), strict=True):
            if value is not None:
                raise InvalidArgumentError(
                    name, f"only a 'failed' event carries one, not {event!r}"
                )


def final_event(*, any_successful: bool, any_failed: bool) -> str:
    """The event that ends a job, from what became of its items (Pleo's export flow, step 7).

    ``completed`` when nothing failed (an empty job included), ``completed_with_errors`` when
    some items failed and some succeeded, ``failed`` when none succeeded.
    """
    if not any_failed:
        return "completed"
    return "completed_with_errors" if any_successful else "failed"


def job_failure_type(item_failure_types: Iterable[str | None]) -> str:
    """The job-level failure type for a job whose every item failed.

    The most common item type that also exists at job level wins (e.g. every item
    ``accounting_system_unreachable``); items that failed unexpectedly point at the integration
    (``integration_unusable``); anything else, such as ``vendor_unknown``, is data the
    accounting system refused: ``validation_failure``.
    """
    counts = Counter(kind for kind in item_failure_types if kind)
    for kind, _ in counts.most_common():
        if kind in _SHARED_FAILURE_TYPES:
            return kind
        if kind == "unexpected_failure":
            return "integration_unusable"
    return "validation_failure"


def job_failure_type_for(exc: BaseException) -> str:
    """The job-level failure type for an exception that ended an export run.

    Pleo API failures map to their own types (``authentication_failure``, ``pleo_rate_limit``,
    ``service_timeout``, ``service_unreachable``…). Anything else is an error of the
    integration itself, which could not carry the export through: ``integration_unusable``.
    (``validation_failure`` would claim the data was at fault, which an exception does not
    show.)
    """
    if isinstance(exc, AuthenticationError):
        return "authentication_failure"
    if isinstance(exc, PermissionDeniedError):
        return "authorization_failure"
    if isinstance(exc, RateLimitError):
        return "pleo_rate_limit"
    if isinstance(exc, APITimeoutError):
        return "service_timeout"
    if isinstance(exc, APIConnectionError | ServerError):
        return "service_unreachable"
    if isinstance(exc, PleoError) and isinstance(exc.__cause__, PleoError):
        return job_failure_type_for(exc.__cause__)  # e.g. the failure behind BatchUpdateError
    return "integration_unusable"


def status_text(status: object) -> str:
    """A job status as plain text, whether a v3 string or a v2 enum member (known or not)."""
    value = getattr(status, "value", status)
    return str(value)


def job_ref(job: object) -> tuple[uuid.UUID | str, str | None]:
    """The id of a job given as an id or as a job model, and its status when a model says it.

    Raises:
        InvalidArgumentError: neither an id (str or UUID) nor something with ``id`` and
            ``status``.
    """
    if isinstance(job, str | uuid.UUID):
        return job, None
    job_id, status = getattr(job, "id", None), getattr(job, "status", None)
    if isinstance(job_id, str | uuid.UUID) and status is not None:
        return job_id, status_text(status)
    raise InvalidArgumentError(
        "job", f"expected a job id or an export job, got {type(job).__name__}"
    )


#: Answers after which Pleo may still have applied the request: a gateway or server error
#: that says nothing about the backend. 503 (and 408, 429) mean it was not processed.
_AMBIGUOUS_STATUSES: Final = frozenset({500, 502, 504})


def may_have_landed(outcome: httpx.Response | Exception) -> bool:
    """Whether a failed attempt may still have been applied by Pleo.

    True for an error after the request may have gone out (a read timeout, a dropped
    connection) and for 500, 502 and 504; False for an answer that refuses it (4xx, 503) and
    for failures before sending (connect errors, pool timeouts).
    """
    if isinstance(outcome, httpx.Response):
        return outcome.status_code in _AMBIGUOUS_STATUSES
    if isinstance(outcome, httpx.TransportError):
        return not transport_error_is_safe_to_retry(outcome, idempotent=False)
    return False


async def transition(
    jobs: JobEvents[JobLike],
    job: object,
    event: str,
    *,
    reason: str | None = None,
    reason_type: str | None = None,
) -> bool:
    """Post one lifecycle event, checked first and reconciled after (see ``ExportJobs.start``).

    With a job model its status is checked before anything is sent; with a bare id nothing is
    read first. The event is retried on timeouts, dropped connections and 5xx. When an attempt
    that may have been applied (``may_have_landed``) is followed by a 422, or leaves the
    outcome unknown, the job is re-read: if it already is where the event leads, that attempt
    landed and the call succeeds.

    One ambiguity is left, and only for ``started``: if the lost attempt had in fact not
    landed and another worker claimed the job in between, both believe they hold it. Pleo
    offers no claim token to tell the two apart, so the result says which case this was.

    Returns:
        True when Pleo's acceptance was seen; False when it was concluded from re-reading the
        job after an attempt got no clear answer (``ExportWorker`` defers such a claim).

    Raises:
        InvalidArgumentError: an unknown event, or failure details on another event.
        InvalidTransitionError: the model's known status forbids the event (nothing sent).
        InvalidStatusChangeError: Pleo refused the event; ``actual_status`` holds the status
            re-read afterwards (None if that read failed too).
    """
    check_event_fields(event, reason, reason_type)
    job_id, status = job_ref(job)
    target = target_status(event)
    if status is not None:
        check_transition(status, event, job_id=str(job_id))
    outcomes: list[httpx.Response | Exception] = []
    try:
        await _post_watched(jobs, outcomes, job_id, event, reason, reason_type)
    except InvalidStatusChangeError as exc:
        actual = await _reread_status(jobs, job_id)
        exc.actual_status = actual
        if actual == target and any(may_have_landed(o) for o in outcomes[:-1]):
            logger.info(
                "job %s: %r was refused on attempt %d, but an earlier attempt got no clear "
                "answer and the job is %r: that attempt landed",
                job_id,
                event,
                len(outcomes),
                actual,
            )
            return False
        raise
    except (APIConnectionError, ServerError) as exc:
        if not any(may_have_landed(o) for o in outcomes):
            raise
        actual = await _reread_status(jobs, job_id)
        if actual != target:
            raise
        logger.info(
            "job %s: %r ended with %s, but the job is %r: the event landed",
            job_id,
            event,
            type(exc).__name__,
            actual,
        )
        return False
    logger.info("job %s: posted %r; the job is now %r", job_id, event, target)
    return True


#: The attempts of the event ``transition`` is posting, each attempt's response or the error
#: that ended it, for its reconciliation. Set only while it posts; the jobs resource's
#: ``post_event`` reads it (``attempt_recorder``), so its public signature carries no callback.
_ATTEMPTS: Final[contextvars.ContextVar[list[httpx.Response | Exception] | None]] = (
    contextvars.ContextVar("pleo_export_event_attempts", default=None)
)


def attempt_recorder() -> Callable[[httpx.Response | Exception], None] | None:
    """Where the event being posted should note each attempt's end: the list ``transition``
    watches, or None when no transition is posting."""
    attempts = _ATTEMPTS.get()
    return None if attempts is None else attempts.append


async def _post_watched(
    jobs: JobEvents[JobLike],
    outcomes: list[httpx.Response | Exception],
    job_id: uuid.UUID | str,
    event: str,
    reason: str | None,
    reason_type: str | None,
) -> None:
    """Post ``event`` (retried) with each attempt's end noted in ``outcomes``."""
    watching = _ATTEMPTS.set(outcomes)
    try:
        await jobs.post_event(
            job_id, event, failure_reason=reason, failure_reason_type=reason_type, retry=True
        )
    finally:
        _ATTEMPTS.reset(watching)


async def _reread_status(jobs: JobEvents[JobLike], job_id: uuid.UUID | str) -> str | None:
    """The job's current status, or None when even that read fails (the caller re-raises)."""
    try:
        job = await jobs.get(job_id)
    except PleoError as exc:
        logger.warning("job %s: could not re-read the job to reconcile an event: %s", job_id, exc)
        return None
    return status_text(job.status)
