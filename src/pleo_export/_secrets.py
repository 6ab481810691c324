"""The credentials this process has used, so that no error message can repeat them.

The auth classes register each secret they send (an API key, its Basic form, every bearer
token fetched); ``redact`` masks them in any text the SDK builds from a response, such as a
proxy page that echoes the Authorization header. Only the most recent secrets are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Final

__all__ = ["MASK", "redact", "register"]

MASK: Final = "[secure]"
#: Secrets remembered at once; a refreshing token adds one per refresh, so old ones age out.
_MAX_SECRETS: Final = 64
#: Shorter strings are not masked: they would blank out ordinary words.
_MIN_LENGTH: Final = 6

_secrets: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()


def register(*secrets: str) -> None:
    """Remember secrets to mask from now on."""
    with _lock:
        for secret in secrets:
            if len(secret) >= _MIN_LENGTH:
                _secrets[secret] = None
                _secrets.move_to_end(secret)
        while len(_secrets) > _MAX_SECRETS:
            _secrets.popitem(last=False)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[secure]``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # longest first: a key inside its token
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
