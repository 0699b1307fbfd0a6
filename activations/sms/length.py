"""How long a text is where it is billed: its encoding and how many SMS segments it takes.

An SMS carries 140 bytes. A body written entirely in the GSM-7 alphabet packs 160 septets into
one; any other character (an emoji, a curly quote, a "ç") turns the whole body into UCS-2, 70
UTF-16 code units per SMS. A longer body is sent as concatenated parts, each losing room to the
header that joins them again: 153 septets or 67 code units. A character never straddles two
parts: a GSM-7 extension character (`^{}\\[~]|€`, escape + code: 2 septets) or a character
outside the BMP (an emoji: a surrogate pair, 2 code units) moves whole to the next part.

The count here is what a carrier bills when the body is sent as written; Twilio's optional
"smart encoding" (replacing curly quotes and the like) may send fewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

MAX_BODY_CHARACTERS = 1600
"""The longest body Twilio accepts (error 21617 beyond). Counted here in UTF-16 code units, never
fewer than characters, so an emoji-heavy body is refused here rather than by Twilio."""

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet, one septet each (the escape code itself excluded)."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""The GSM 03.38 extension table: escape + code, two septets each."""

SINGLE_SEPTETS, PART_SEPTETS = 160, 153
SINGLE_UNITS, PART_UNITS = 70, 67


@dataclass(frozen=True)
class BodyLength:
    """What a preview shows of a body: its encoding, its length in characters (code points) and
    in the encoding's units (septets or UTF-16 code units), and its SMS segments."""

    encoding: Encoding
    characters: int
    units: int
    segments: int

    @property
    def too_long(self) -> bool:
        """Whether Twilio would refuse the body (over MAX_BODY_CHARACTERS, error 21617)."""
        # A GSM-7 body is all BMP: its UTF-16 length is its length in characters.
        utf16 = self.units if self.encoding == "UCS-2" else self.characters
        return utf16 > MAX_BODY_CHARACTERS


def encoding(body: str) -> Encoding:
    """GSM-7 when every character is in the GSM-7 alphabet or its extension, else UCS-2."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        return "GSM-7"
    return "UCS-2"


def segments(body: str) -> int:
    """How many SMS `body` is sent as (0 for an empty body, which Twilio refuses)."""
    if encoding(body) == "GSM-7":
        return _parts(_septet_sizes(body), SINGLE_SEPTETS, PART_SEPTETS)
    return _parts(_unit_sizes(body), SINGLE_UNITS, PART_UNITS)


def body_length(body: str) -> BodyLength:
    """The summary a preview shows for `body`."""
    kind = encoding(body)
    sizes = _septet_sizes(body) if kind == "GSM-7" else _unit_sizes(body)
    single, part = (SINGLE_SEPTETS, PART_SEPTETS) if kind == "GSM-7" else (SINGLE_UNITS, PART_UNITS)
    return BodyLength(
        encoding=kind,
        characters=len(body),
        units=sum(sizes),
        segments=_parts(sizes, single, part),
    )


def utf16_units(body: str) -> int:
    """The body's length in UTF-16 code units: 2 for a character outside the BMP."""
    return sum(_unit_sizes(body))


def _septet_sizes(body: str) -> list[int]:
    return [2 if char in GSM7_EXTENSION else 1 for char in body]


def _unit_sizes(body: str) -> list[int]:
    return [2 if ord(char) > 0xFFFF else 1 for char in body]


def _parts(sizes: list[int], single: int, part: int) -> int:
    """Parts needed for characters of `sizes`: one if all fit in `single`, else filled `part`
    units at a time, a character that does not fit whole starting the next part."""
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for size in sizes:
        if used + size > part:
            parts, used = parts + 1, 0
        used += size
    return parts
