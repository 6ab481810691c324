"""Deterministic ids for the fake: company and job UUIDs, and entry ids that encode an index.

An accounting entry id of a seeded job is ``<job prefix>-<index as 12 hex digits>``, so the fake
maps an id back to its item without a table, and ids sort in item order. Nothing here is random
unless seeded.
"""

from __future__ import annotations

import hashlib
import random
import uuid

__all__ = ["entry_id", "entry_index", "entry_prefix", "normalize_uuid", "seeded_uuid"]

_INDEX_DIGITS = 12
MAX_ITEMS = 16**_INDEX_DIGITS


def seeded_uuid(rng: random.Random) -> str:
    """Draw a version-4 UUID string from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def entry_prefix(seed: int, job_id: str) -> str:
    """Return the first 24 characters (with dashes) shared by every entry id of one seeded job."""
    digest = hashlib.sha256(f"pleo-fake|{seed}|{job_id}".encode()).hexdigest()
    variant = "89ab"[int(digest[16], 16) & 3]
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-{variant}{digest[17:20]}-"


def entry_id(prefix: str, index: int) -> str:
    """Return the accounting entry id of item ``index`` in the job with ``prefix``."""
    return f"{prefix}{index:0{_INDEX_DIGITS}x}"


def entry_index(prefix: str, accounting_entry_id: str) -> int | None:
    """Return the item index encoded in ``accounting_entry_id``, or None if it is not this job's."""
    if len(accounting_entry_id) != 36 or not accounting_entry_id.startswith(prefix):
        return None
    try:
        return int(accounting_entry_id[len(prefix) :], 16)
    except ValueError:
        return None


def normalize_uuid(text: object) -> str | None:
    """Return ``text`` as a canonical lower-case UUID string, or None if it is not a UUID."""
    if not isinstance(text, str) or len(text) != 36:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
