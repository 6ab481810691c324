"""The credentials this process has used, so that no error message can repeat them.

The auth classes register each secret they send (an API key, its Basic form, every bearer
token fetched); ``redact`` masks them in any text the SDK builds from a response, such as a
proxy page that echoes the Authorization header, and ``scrub`` also escapes control characters
and bounds the length. Only the most recent secrets are kept. A filter on httpx's and
httpcore's loggers masks them in those libraries' DEBUG lines, which quote protocol errors
before the SDK sees them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Final

__all__ = [
    "ERROR_FIELD_MAX_CHARS",
    "MASK",
    "escape_controls",
    "redact",
    "register",
    "scrub",
    "scrub_chain",
]

MASK: Final = "[secure]"
#: Each text field an error or log line takes from a response (Pleo's message and type, a
#: request id, an httpx or h11 error text) is cut to this many characters.
ERROR_FIELD_MAX_CHARS: Final = 500
#: Secrets remembered at once; a refreshing token adds one per refresh, so old ones age out.
_MAX_SECRETS: Final = 64
#: Shorter strings are not masked: they would blank out ordinary words.
_MIN_LENGTH: Final = 6
#: The loggers of the libraries under the seam; logger filters are not inherited, so each
#: child logger httpcore writes to is named.
_LIBRARY_LOGGERS: Final = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
#: C0 controls, DEL, C1 controls and Unicode's line and paragraph separators: a CR/LF in a
#: server's text could forge a log line.
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_secrets: OrderedDict[str, None] = OrderedDict()
_longest = 0
_lock = threading.Lock()


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    return named or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """``text`` with control characters written as ``\\n``, ``\\r``, ``\\x1b`` … (as repr does)."""
    return _CONTROL.sub(_escape, text)


def register(*secrets: str) -> None:
    """Remember secrets to mask from now on, with the escaped forms a repr or ``scrub`` shows
    (once escaped in an h11 message, twice in the repr of that error in httpcore's log)."""
    global _longest
    with _lock:
        for secret in secrets:
            if len(secret) >= _MIN_LENGTH:
                escaped = escape_controls(secret)
                for form in {secret, escaped, escaped.replace("\\", "\\\\")}:
                    _secrets[form] = None
                    _secrets.move_to_end(form)
        while len(_secrets) > _MAX_SECRETS:
            _secrets.popitem(last=False)
        _longest = max(map(len, _secrets), default=0)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[secure]``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # longest first: a key inside its token
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def scrub(text: str, limit: int = ERROR_FIELD_MAX_CHARS) -> str:
    """``text`` made safe for an error or a log line: secrets masked, control characters
    escaped, and cut to ``limit`` characters with ``…`` and the original length.

    Only the head that can show is searched: a secret starting inside it is whole in it, since
    the head reaches one longest secret past the limit.
    """
    head = text[: limit + _longest]
    safe = escape_controls(redact(head))
    if len(safe) <= limit and len(head) == len(text):
        return safe
    note = f"… ({len(text):,} chars)"
    return safe[: max(limit - len(note), 0)] + note


def scrub_chain(exc: BaseException) -> None:
    """Scrub, in place, the text of ``exc`` and of every exception it was raised from.

    httpx and h11 quote what they could not parse (a status line, a header line) or send (a
    header value), which can hold a credential a hostile server echoed. Rewriting the text
    where it lives covers every later reader: the SDK's message, a retry log's repr, a
    formatted traceback.
    """
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if any(isinstance(arg, str | bytes) for arg in link.args):
            link.args = tuple(
                scrub(arg if isinstance(arg, str) else repr(arg))
                if isinstance(arg, str | bytes)
                else arg
                for arg in link.args
            )
        link = link.__cause__ or link.__context__


class _RedactFilter(logging.Filter):
    """Masks registered secrets in a record's message (httpcore's trace lines carry the repr
    of an h11 error, which may quote an echoed Authorization header)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER: Final = _RedactFilter()
for _name in _LIBRARY_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)
