"""eventsourcing's JSON transcoding, read and written with orjson: the same stored format (typed values as
`{"_type_": …, "_data_": …}`), about five times faster on the record's large events.

A roll call's event carries its ~140 votes; the record's 6,203 roll calls made JSON the largest cost of storing
and replaying it after SQLite itself (docs/benchmarks.md). orjson writes UUIDs as plain strings, which would lose
their type, so they are wrapped before it sees them; dates and datetimes go through the registered transcodings
as with the standard library. Events stored by either transcoder read back the same with the other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError

_PLAIN = frozenset({str, int, float, bool, type(None)})
_NESTED = frozenset({dict, list})
_SCALARS = (str, int, float)  # and their subclasses: bool, enums of str


def _wrap(value: Any) -> Any:
    """The value with every UUID in it as its typed form (what JSONTranscoder writes for one)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is UUID:
        return {"_type_": "uuid_hex", "_data_": value.hex}
    if kind is dict:
        for item in value.values():
            if not isinstance(item, _SCALARS) and item is not None:
                return {key: _wrap(item) for key, item in value.items()}
        return value  # a dict of plain values (a roll call's votes, enums of str among them): as it is
    if kind is list or kind is tuple:
        return [_wrap(item) for item in value]
    return value  # dates, datetimes, enums: orjson's own, or the transcodings through `default`


class FastJSONTranscoder(JSONTranscoder):
    """JSONTranscoder's format with orjson beneath it."""

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(_wrap(obj), default=self._encode_obj, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except orjson.JSONEncodeError as error:
            # A type with no transcoding: the same error JSONTranscoder raises.
            if isinstance(error.__cause__, TranscodingNotRegisteredError):
                raise error.__cause__ from None
            raise

    def decode(self, data: bytes) -> Any:
        return self._revive(orjson.loads(data))

    def _revive(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decode_obj(value)
            if _NESTED.isdisjoint(set(map(type, value.values()))):  # C-speed: a roll call's 140 votes
                return value
            return {key: self._revive(item) for key, item in value.items()}
        if kind is list and not _NESTED.isdisjoint(set(map(type, value))):
            return [self._revive(item) for item in value]
        return value
