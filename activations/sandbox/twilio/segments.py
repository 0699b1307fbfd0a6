"""How many SMS segments a body takes, as Twilio counts and bills them (`num_segments`).

Why exact: a client that budgets sends or cost by segments must see the number Twilio would
report. A body is GSM-7 when every character is in the GSM 03.38 basic or extension table, else
UCS-2 (the spec's Body description: "more than 160 GSM-7 characters (or 70 UCS-2 characters)").

- GSM-7: one segment holds 160 septets; a longer body is split into segments of 153 (the rest
  is the concatenation header). An extension character (`€ [ ] { } ^ ~ | \\` and form feed) is
  an escape plus a septet, 2 septets that are never split across two segments.
- UCS-2: 70 UTF-16 code units, or 67 per segment when split. A character outside the Basic
  Multilingual Plane (most emoji) is a surrogate pair, 2 units that are never split either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class Segmentation:
    """A body's encoding, its length in that encoding's units, and its segment count."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    segments: int


def segment(body: str) -> Segmentation:
    """The encoding and segments of `body`; an empty body (a media-only message) is 1 segment."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        septets = [2 if char in GSM7_EXTENSION else 1 for char in body]
        return Segmentation("GSM-7", sum(septets), _pack(septets, GSM7_SINGLE, GSM7_PART))
    units = [utf16_length(char) for char in body]
    return Segmentation("UCS-2", sum(units), _pack(units, UCS2_SINGLE, UCS2_PART))


def utf16_length(text: str) -> int:
    """UTF-16 code units: what a UCS-2 segment and Twilio's 1,600-character limit count."""
    return len(text.encode("utf-16-le")) // 2


def _pack(sizes: Sequence[int], single: int, part: int) -> int:
    """Segments for characters of these sizes: one if all fit in `single`, else filled greedily
    with `part` units each, a character that does not fit starting the next segment."""
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments
