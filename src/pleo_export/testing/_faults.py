"""Fault injection for the fake: seeded, per-route rules, switchable at runtime and counted.

``Faults`` holds the rules and decides, per request, which fire; the ASGI wrapper in ``_layer``
acts on the decision around the real app, which never knows faults exist.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal, get_args

__all__ = ["FAULT_KINDS", "FILE_FAULT_KINDS", "Decision", "FaultKind", "FaultRule", "Faults"]

FaultKind = Literal[
    "status",
    "rate_limit",
    "drop",
    "delay",
    "lost_response",
    "unknown_enum",
    "extra_fields",
    "expired_url",
    "truncated",
    "size_mismatch",
    "oversized",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
# At most one of these answers a request; the first rule (in insertion order) that fires wins.
_TERMINAL = frozenset({"status", "rate_limit", "drop", "lost_response", "expired_url"})
#: Faults of file downloads only: they never fire on (or count against) an API operation.
FILE_FAULT_KINDS = frozenset({"expired_url", "truncated", "size_mismatch", "oversized"})
#: Rewrites of JSON answers: they never fire on a file download.
_JSON_MUTATIONS = frozenset({"unknown_enum", "extra_fields"})
#: The route name of file downloads (``_files.FILE_OPERATION``).
_FILE_OPERATION = "getFile"


@dataclass(eq=False)
class FaultRule:
    """One fault rule. Create rules with ``Faults.add``; toggle ``enabled`` at any time.

    Attributes:
        kind: What to inject (see ``Faults.add``).
        route: Which requests: None for every operation, an operationId with or without its
            version suffix (``"updateExportJobItemsV3"``, ``"updateExportJobItems"``), or a
            glob over ``"METHOD /path"``, matched against both the template
            (``"PUT /v3/export-jobs/{jobId}/items"``) and the concrete path (``"GET /v2/*"``).
        rate: Probability in [0, 1] that a matching request gets the fault.
        times: Stop after injecting this many times (None: no limit).
        injected: How many times this rule fired so far.
    """

    kind: FaultKind
    route: str | None = None
    rate: float = 1.0
    times: int | None = None
    status: int = 503
    html: bool = False
    retry_after: int | None = None
    seconds: float = 5.0
    enabled: bool = True
    injected: int = 0

    def matches(self, method: str, path: str, template: str, operation: str) -> bool:
        """Return whether this rule applies to a request."""
        if self.route is None or self.route in (operation, operation[:-2]):
            return True
        return fnmatchcase(f"{method} {template}", self.route) or fnmatchcase(
            f"{method} {path}", self.route
        )

    @property
    def exhausted(self) -> bool:
        """Whether the rule has used up its ``times``."""
        return self.times is not None and self.injected >= self.times


@dataclass
class Decision:
    """What to do to one request: delay, then answer/drop, or run and then lose or mutate."""

    delay: float = 0.0
    answer: FaultRule | None = None
    mutations: set[str] = field(default_factory=set)


class Faults:
    """The fault rules of one fake, drawn from a seeded random stream so runs repeat.

    Example:
        >>> faults = Faults(seed=0)
        >>> rule = faults.add("status", status=503, rate=0.1, route="updateExportJobItemsV3")
        >>> rule.enabled = False  # off for a while; faults.clear() removes every rule
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"faults|{seed}")
        self._rules: list[FaultRule] = []
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        #: Master switch: when False no rule fires (rules and counts are kept).
        self.enabled = True

    def __repr__(self) -> str:
        return (
            f"<Faults rules={len(self._rules)} enabled={self.enabled} counts={dict(self._counts)}>"
        )

    def add(
        self,
        kind: FaultKind,
        *,
        route: str | None = None,
        rate: float = 1.0,
        times: int | None = None,
        status: int | None = None,
        html: bool = False,
        retry_after: int | None = None,
        seconds: float = 5.0,
    ) -> FaultRule:
        """Add a rule and return it.

        Args:
            kind: ``"status"`` answers ``status`` (default 503) without touching state, with a
                JSON ExceptionInfo body, or an HTML proxy page if ``html``; ``"rate_limit"``
                answers 429 with ``Retry-After: retry_after`` (default 1 second); ``"drop"``
                closes the connection without an answer (in-process: the transport raises
                ``httpx.RemoteProtocolError``); ``"delay"`` waits ``seconds`` (default 5) before
                handling the request; ``"lost_response"`` applies the request to the state, then
                drops the connection; ``"unknown_enum"`` rewrites job status to ``"archived"``,
                item status to ``"on_hold"`` and export item type to ``"crypto_purchase"`` in
                the answer; ``"extra_fields"`` adds unknown fields at every level of the answer.
                File downloads (route ``"getFile"``) also take ``"expired_url"`` (403, as for
                a URL past its expiry), ``"truncated"`` (half the body, then the connection
                drops), ``"size_mismatch"`` (a complete body of half the declared size) and
                ``"oversized"`` (40 MiB without a Content-Length); these never fire elsewhere.
            route: Which requests (see ``FaultRule.route``); None for all.
            rate: Probability of firing per matching request, 0 to 1 (default 1: always).
            times: Fire at most this many times (default: unlimited).
            status: The status of a ``"status"`` fault (default 503).
            html: Send an HTML error page instead of JSON (``"status"`` only).
            retry_after: ``Retry-After`` seconds; default 1 for ``"rate_limit"``, none otherwise.
            seconds: The wait of a ``"delay"`` fault.

        Raises:
            ValueError: For an unknown kind, a rate outside [0, 1] or a non-error status.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if kind == "rate_limit":
            status, retry_after = 429, 1 if retry_after is None else retry_after
        status = 503 if status is None else status
        if not 400 <= status <= 599:
            raise ValueError("a fault status must be 4xx or 5xx")
        rule = FaultRule(kind, route, rate, times, status, html, retry_after, seconds)
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Remove one rule (no error if it is already gone)."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        """Remove every rule; the counts are kept."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """A copy of the rules, in the order they are tried."""
        with self._lock:
            return list(self._rules)

    @property
    def counts(self) -> dict[str, int]:
        """How many faults of each kind were injected so far (kinds never injected are absent)."""
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        """Zero the per-kind counts and every rule's ``injected`` count."""
        with self._lock:
            self._counts.clear()
            for rule in self._rules:
                rule.injected = 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Turn all faults off inside a ``with`` block, e.g. while a test checks state."""
        before, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = before

    def decide(self, method: str, path: str, template: str, operation: str) -> Decision:
        """Roll every matching rule once and return what to inject into this request."""
        decision = Decision()
        if not self.enabled:
            return decision
        with self._lock:
            for rule in self._rules:
                if not rule.enabled or rule.exhausted:
                    continue
                if not rule.matches(method, path, template, operation):
                    continue
                is_file = operation == _FILE_OPERATION
                if (rule.kind in FILE_FAULT_KINDS and not is_file) or (
                    rule.kind in _JSON_MUTATIONS and is_file
                ):
                    continue
                if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                    continue
                if rule.kind in _TERMINAL:
                    if decision.answer is not None:
                        continue
                    decision.answer = rule
                elif rule.kind == "delay":
                    decision.delay += rule.seconds
                else:
                    decision.mutations.add(rule.kind)
                rule.injected += 1
                self._counts[rule.kind] += 1
        return decision
