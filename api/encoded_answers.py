"""Answers kept encoded between requests, in a bounded amount of memory, for reads whose answer changes only when
events of their own arrive: one roll call (190 votes, about 100 KB) costs far more to read and encode than to send.

The key names everything the answer is made of, so an entry is never stale: a new event on the roll call, a
`known_at` that sees other events, or another generation of the read models (a rebuild) is another key. Entries
are dropped least recently used first once their bytes pass the bound; a bound of 0 keeps nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import orjson
from fastapi import Response

# What one entry costs beside its bytes (its key, the dict's slot): an estimate, so that many tiny answers cannot
# pass the bound unseen.
ENTRY_OVERHEAD = 200


class EncodedAnswers:
    """Encoded JSON objects by key, least recently used dropped first once they pass `max_bytes`. Thread-safe:
    the routes that use it are plain `def`, run on FastAPI's thread pool."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @property
    def size(self) -> int:
        """The bytes held, entries' overhead included."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> bytes | None:
        """The object kept under `key`, counted as a hit; a miss is counted by `keep`, which reads it (so a caller
        that asks twice before reading, as a route's fast path and then its endpoint do, counts one miss)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
                self._entries.move_to_end(key)
            return found

    def kept(self, key: Hashable, read: Callable[[], dict[str, Any] | None]) -> bytes | None:
        """The object kept under `key` (opened: `open_object`), or read, encoded and kept. None: `read` found
        nothing, and nothing is kept."""
        opened = self.get(key)
        return opened if opened is not None else self.keep(key, read)

    def keep(self, key: Hashable, read: Callable[[], dict[str, Any] | None]) -> bytes | None:
        """`read`, encoded and kept under `key`, for a caller whose `get` of it has just missed."""
        with self._lock:
            self.misses += 1
        found = read()
        if found is None:
            return None
        opened = open_object(found)
        self.put(key, opened)
        return opened

    def put(self, key: Hashable, value: bytes) -> None:
        cost = len(value) + ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old) + ENTRY_OVERHEAD
            self._entries[key] = value
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped) + ENTRY_OVERHEAD


def open_object(body: dict[str, Any]) -> bytes:
    """A JSON object encoded without its closing brace, for `closed` to add fields to (orjson: api/json_answers.py)."""
    encoded = orjson.dumps(body)
    assert encoded.endswith(b"}") and body, "a non-empty object"
    return encoded[:-1]


def closed(opened: bytes, name: str, value: Any) -> Response:
    """The object `open_object` began, with one more field last: exactly what orjson sends for `{**body, name:
    value}`, so a kept answer and a fresh one are the same bytes."""
    return Response(b"".join((opened, b",", orjson.dumps(name), b":", orjson.dumps(value), b"}")),
                    media_type="application/json")
