"""Keyset cursors: an opaque token for "after this (date, position)", the same on every paged route."""

from __future__ import annotations

import base64
import binascii

from domain.errors import InvalidInput

MAX_POSITION = 2**62  # beyond any log, and inside BIGINT


def encode(day: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{day}|{position}".encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[str, int]:
    """The (date, position) a cursor stands for; a cursor this server did not issue is malformed input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, _, position = raw.partition("|")
        if not 0 <= int(position) <= MAX_POSITION or len(day) != 10:
            raise ValueError(position)
        return day, int(position)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this server issued", field="cursor") from None
