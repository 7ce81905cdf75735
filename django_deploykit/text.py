"""Shortening text for messages: at a word boundary, marked with an ellipsis, saying where the rest is.

Every message that quotes a command's output or a long value goes through ``shorten`` (or ``tail``,
built on it), so nothing reaches a terminal, a log line or the history cut in the middle of a word.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

from django_deploykit.redact import redact_text

ELLIPSIS: Final = "…"
Tone = Literal["plain", "heading", "success", "warning", "error"]


class Say(NamedTuple):
    """A line of a command's text output and its tone; the packages say what, the command styles it."""

    text: str
    tone: Tone = "plain"


_SPACE: Final = re.compile(r"\s")


def shorten(
    text: str, limit: int, *, keep: Literal["start", "end"] = "start", full: str | None = None
) -> str:
    """``text`` when it fits in ``limit`` characters; else at most ``limit`` characters of its start (or
    end) cut at a word boundary, an ellipsis where the cut is, and, with ``full``, where the whole text is
    (a log's path, a command to run)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    limit = max(limit, 1)
    if keep == "start":
        kept = text[:limit]
        if not text[limit].isspace():
            boundary = max((match.start() for match in _SPACE.finditer(kept)), default=0)
            # One word longer than the limit (a path, a hash) can only be cut inside it.
            kept = kept[:boundary] if boundary else kept
        shortened = kept.rstrip(" ,;:|-") + ELLIPSIS
    else:
        kept = text[-limit:]
        if not text[-limit - 1].isspace():
            match = _SPACE.search(kept)
            kept = kept[match.end() :] if match else kept
        shortened = ELLIPSIS + kept.lstrip(" ,;:|-")
    return f"{shortened} (more in {full})" if full else shortened


def tail(output: str, *, limit: int = 600, full: str | None = None) -> str:
    """The end of a command's output as one redacted line: its lines joined with " | ", shortened from the
    front (where a traceback's least useful part is) with ``shorten``."""
    lines = [line.strip() for line in redact_text(output).splitlines() if line.strip()]
    return shorten(" | ".join(lines), limit, keep="end", full=full)
