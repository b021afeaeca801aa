"""Keyset cursors: an opaque token for "after this (date, position, party)", the same on every paged route."""

from __future__ import annotations

import base64
import binascii

from domain.errors import InvalidInput

MAX_POSITION = 2**62  # beyond any log, and inside BIGINT


def encode(day: str, position: int, party: str = "") -> str:
    text = f"{day}|{position}|{party}" if party else f"{day}|{position}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[str, int, str]:
    """The (date, position, party) a cursor stands for (the party "" but for a vote); a cursor this server did
    not issue is malformed input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, position, *party = raw.split("|")
        if not 0 <= int(position) <= MAX_POSITION or len(day) != 10 or len(party) > 1:
            raise ValueError(position)
        return day, int(position), party[0] if party else ""
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this server issued", field="cursor") from None
