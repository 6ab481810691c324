"""``_secrets``: registered credentials are masked, control characters escaped and text bounded
with its original length; the scrub reaches the whole exception chain and the libraries' logs."""

from __future__ import annotations

import logging

import pytest

from pleo_export._secrets import (
    ERROR_FIELD_MAX_CHARS,
    MASK,
    escape_controls,
    redact,
    register,
    scrub,
    scrub_chain,
)

SECRET = "sk-unit-secrets-5f1e0c9a7b"


def test_scrub_masks_escapes_and_bounds() -> None:
    """A secret is masked, CR/LF/ESC are escaped and a long text ends in ``… (N chars)``."""
    register(SECRET)
    text = f"echo {SECRET}\r\nforged\x1b" + "x" * 2_000
    cleaned = scrub(text)
    assert SECRET not in cleaned
    assert MASK in cleaned
    assert "\\r\\nforged\\x1b" in cleaned
    assert len(cleaned) == ERROR_FIELD_MAX_CHARS
    assert cleaned.endswith(f"… ({len(text):,} chars)")


def test_scrub_keeps_short_text_and_masks_a_secret_at_the_cut() -> None:
    """Short text is unchanged; a secret straddling the bound is masked whole, not half shown."""
    assert scrub("plain words") == "plain words"
    register(SECRET)
    text = "y" * (ERROR_FIELD_MAX_CHARS - 5) + SECRET
    cleaned = scrub(text)
    assert SECRET[:5] not in cleaned.replace("y", "")


def test_escaped_forms_of_a_secret_are_masked() -> None:
    """A token holding CR/LF is masked raw, escaped once (h11's message) and twice (a repr)."""
    token = "tok-unit-\r\nX-Evil: 1"
    register(token)
    once = escape_controls(token)
    twice = once.replace("\\", "\\\\")
    assert redact(f"a {token} b {once} c {twice}") == f"a {MASK} b {MASK} c {MASK}"


def test_unicode_line_breaks_are_escaped() -> None:
    """U+2028/U+2029 and C1 NEL, which split lines too, are escaped like CR/LF."""
    assert escape_controls("a\u2028b\u2029c\x85d") == "a\\u2028b\\u2029c\\x85d"


def _raise_chained() -> None:
    try:
        raise ValueError(f"inner {SECRET}")
    except ValueError as inner:
        raise RuntimeError(f"outer {SECRET}", b"raw") from inner


def test_scrub_chain_rewrites_every_link() -> None:
    """Each exception in the cause/context chain has its text scrubbed in place."""
    register(SECRET)
    with pytest.raises(RuntimeError) as caught:
        _raise_chained()
    scrub_chain(caught.value)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is not None
    assert SECRET not in str(caught.value.__cause__)


@pytest.mark.parametrize("name", ["httpx", "httpcore.http11", "httpcore.connection"])
def test_library_loggers_mask_secrets(name: str, caplog: pytest.LogCaptureFixture) -> None:
    """A registered secret in an httpx/httpcore log record is masked before any handler."""
    register(SECRET)
    with caplog.at_level(logging.DEBUG, logger=name):
        logging.getLogger(name).debug("failed exception=%r", f"Basic {SECRET}")
    assert SECRET not in caplog.text
    assert MASK in caplog.text
